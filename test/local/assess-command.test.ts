import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import { loadPolicyFile, runAssess } from '../../local/commands/assess.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { useTempDir } from '../support/temp-dir.ts';

const tmp = useTempDir('winback-assess-');
const file = tmp.file;

/** A sink that keeps what was written, as text. */
function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

// Away 20 days: at risk under the default 30-day churn line, churned under a 14-day one.
const drifting = aUser({
  userId: 'u-drift',
  lastLoginAt: daysBefore(AS_OF, 20),
  lastInvestAt: daysBefore(AS_OF, 20),
  balanceFen: 5_000,
});
const healthy = aUser({ userId: 'u-ok' });

async function run(input: string, policy = DEFAULT_POLICY) {
  const out = sink();
  const err = sink();
  const result = await runAssess({ input, asOf: AS_OF, policy, stdout: out.stream, stderr: err.stream });
  return { result, stdout: lines(out.text()), stderr: lines(err.text()) };
}

describe('runAssess', () => {
  it('assesses the good lines, reports the bad one on stderr and exits 1', async () => {
    const { balanceFen: _omitted, ...noBalance } = aUser({ userId: 'u-bad' });
    const path = await file(
      'three.jsonl',
      [healthy, noBalance, drifting].map((u) => JSON.stringify(u)).join('\n'),
    );
    const { result, stdout, stderr } = await run(path);

    expect(result).toEqual({ assessed: 2, bad: 1, exitCode: 1 });
    expect(stderr).toEqual(['line 2 (user u-bad): balanceFen: required']);
    const parsed = stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((a) => [a.userId, a.status, a.level, a.asOf])).toEqual([
      ['u-ok', 'active', 'none', AS_OF.toISOString()],
      ['u-drift', 'at_risk', 'high', AS_OF.toISOString()],
    ]);
    expect(Object.keys(parsed[1]!).sort()).toEqual(
      ['asOf', 'level', 'lifecycle', 'plan', 'reasons', 'score', 'status', 'userId'].sort(),
    );
  });

  it('exits 0 when every line is good, skipping blank lines', async () => {
    const path = await file('good.jsonl', `${JSON.stringify(healthy)}\n\n${JSON.stringify(drifting)}\n`);
    const { result, stdout, stderr } = await run(path);
    expect(result).toEqual({ assessed: 2, bad: 0, exitCode: 0 });
    expect(stdout).toHaveLength(2);
    expect(stderr).toEqual([]);
  });

  it("reads stdin when the input is '-'", async () => {
    const out = sink();
    const err = sink();
    const result = await runAssess({
      input: '-',
      asOf: AS_OF,
      policy: DEFAULT_POLICY,
      stdout: out.stream,
      stderr: err.stream,
      stdin: Readable.from([`${JSON.stringify(healthy)}\nnot json\n`]),
    });
    expect(result).toEqual({ assessed: 1, bad: 1, exitCode: 1 });
    expect(lines(err.text())).toEqual([expect.stringMatching(/^line 2: .*not valid JSON/)]);
  });

  it('waits for drain on a slow stdout and loses no line', async () => {
    const written: string[] = [];
    let maxBuffered = 0;
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _enc, done) {
        maxBuffered = Math.max(maxBuffered, slow.writableLength);
        written.push(chunk.toString('utf8'));
        setImmediate(done);
      },
    });
    const users = Array.from({ length: 200 }, (_, i) => JSON.stringify(aUser({ userId: `u${i}` })));
    const path = await file('many.jsonl', users.join('\n'));
    const result = await runAssess({
      input: path,
      asOf: AS_OF,
      policy: DEFAULT_POLICY,
      stdout: slow,
      stderr: sink().stream,
    });
    expect(result).toEqual({ assessed: 200, bad: 0, exitCode: 0 });
    expect(written.map((l) => (JSON.parse(l) as { userId: string }).userId)).toEqual(
      users.map((_, i) => `u${i}`),
    );
    // Without awaiting 'drain' all 200 lines (~1 kB each) would sit in the buffer at once.
    expect(maxBuffered).toBeLessThan(5_000);
  });

  it('applies a policy override file', async () => {
    const path = await file('one.jsonl', JSON.stringify(drifting));
    const policy = await loadPolicyFile(await file('policy.json', '{"churn":{"inactiveDays":14}}'));
    expect(policy.churn.inactiveDays).toBe(14);
    expect(policy.warnings.loginDaysOver).toBe(DEFAULT_POLICY.warnings.loginDaysOver);
    const { stdout } = await run(path, policy);
    expect((JSON.parse(stdout[0]!) as { status: string }).status).toBe('churned');
  });

  it('rejects for a missing input file', async () => {
    await expect(run(join(tmp.path(), 'absent.jsonl'))).rejects.toThrow(/ENOENT.*absent\.jsonl/);
  });
});

describe('loadPolicyFile', () => {
  it('returns the default policy without a path', async () => {
    expect(await loadPolicyFile()).toEqual(DEFAULT_POLICY);
  });

  it('names the file, the field and the reason for an invalid policy', async () => {
    const path = await file('bad-policy.json', '{"churn":{"inactiveDays":-1}}');
    await expect(loadPolicyFile(path)).rejects.toThrow(
      `invalid policy file ${path}: churn.inactiveDays: must be at least 0`,
    );
    const typo = await file('typo-policy.json', '{"churn":{"inactiveDay":10}}');
    await expect(loadPolicyFile(typo)).rejects.toThrow(
      `invalid policy file ${typo}: churn.inactiveDay: unknown field`,
    );
  });

  it('names the file for a missing file and for a file that is not JSON', async () => {
    const missing = join(tmp.path(), 'no-policy.json');
    await expect(loadPolicyFile(missing)).rejects.toThrow(`cannot read policy file ${missing}: ENOENT`);
    const notJson = await file('not-json.json', 'churn: 10');
    await expect(loadPolicyFile(notJson)).rejects.toThrow(`policy file ${notJson} is not valid JSON: `);
  });
});
