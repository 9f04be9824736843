import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReportCommand } from '../../local/commands/report.ts';
import { openStoreDir } from '../../local/store-dir.ts';
import { snapshot, writeLake } from './fixture-lake.ts';

/** `winback report` as a child process, the way an operator runs it. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function winback(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/winback.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A store the way demo, import and serve make one: marked by the product's own store-dir code. */
function newStore(path: string): void {
  openStoreDir(path, 'create', 'test').release();
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'winback-report-cli-'));
  const days = ['2026-05-01', '2026-05-02', '2026-05-03'];
  newStore(join(dir, 'data'));
  writeLake(join(dir, 'data', 'lake'), {
    snapshots: days.flatMap((d, i) => [
      snapshot(d, 'a', { status: i === 0 ? 'at_risk' : 'churned', lifecycle: 'novice' }),
      snapshot(d, 'b'),
    ]),
  });
  newStore(join(dir, 'no-lake'));
  mkdirSync(join(dir, 'not-a-store'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('winback report', () => {
  it('writes the JSON report with the keys the issue names', async () => {
    const out = join(dir, 'r.json');
    const run = await winback(['report', '--data-dir', join(dir, 'data'), '--horizon', '1', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`file://${out}`);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'asOfDay',
        'churnStructure',
        'portrait',
        'backtest',
        'feedback',
        'recalls',
      ]),
    );
    // The effectiveness issue's keys, present (empty) before any recall ran.
    expect(Object.keys(json.recalls)).toEqual(
      expect.arrayContaining([
        'funnel',
        'uplift',
        'cost',
        'costPerIncrementalReturnFen',
        'rewardRoi',
        'relapse',
      ]),
    );
    expect(json.recalls.funnel.started).toBe(0);
    expect(json.recalls.uplift).toMatchObject({
      recalledN: 0,
      holdoutN: 0,
      upliftPoints: null,
      ci95: null,
      note: 'not enough data yet',
    });
    for (const by of ['byStrategy', 'byLifecycle', 'byLevel', 'byChannel', 'byTrigger'])
      expect(json.recalls.uplift[by]).toEqual([]);
    expect([json.from, json.to, json.asOfDay]).toEqual(['2026-05-01', '2026-05-03', '2026-05-03']);
    // Judged: 05-01 and 05-02 (horizon 1). Population a@05-01 (at risk, churns 05-02), b, b -> 3 user-days.
    expect(json.backtest).toMatchObject({ horizonDays: 1, daysEvaluated: 2 });
    expect(json.backtest.overall).toMatchObject({
      userDays: 3,
      flagged: 1,
      truePositives: 1,
      trueNegatives: 2,
    });
  }, 60_000);

  it('writes HTML when the file ends in .html, honouring --from, --to and --locale', async () => {
    const out = join(dir, 'r.html');
    const run = await winback([
      'report',
      '--data-dir',
      join(dir, 'data'),
      '--from',
      '2026-05-02',
      '--to',
      '2026-05-02',
      '--locale',
      'en',
      '--out',
      out,
    ]);
    expect(run.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Scan days 2026-05-02 to 2026-05-02');
  }, 60_000);

  it('says clearly when the store has no lake yet', async () => {
    const run = await winback(['report', '--data-dir', join(dir, 'no-lake'), '--out', join(dir, 'x.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no lake in ${join(dir, 'no-lake')}`);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  }, 60_000);

  it('refuses a folder that is not a store, before looking for a lake', async () => {
    const empty = join(dir, 'not-a-store');
    const run = await winback(['report', '--data-dir', empty, '--out', join(dir, 'y.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`--data-dir ${empty} is an empty folder, not a store`);
    expect(run.stderr).not.toContain('no lake');
    // Refused before anything is written: the folder stays empty, no marker and no lock.
    expect(readdirSync(empty)).toEqual([]);
  }, 60_000);

  it('rejects a bad flag as a usage error (exit 2)', async () => {
    const run = await winback(['report', '--data-dir', join(dir, 'data'), '--out', 'r.pdf']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out must end in .html or .json');
  }, 60_000);
});

describe('report flags', () => {
  class Usage extends Error {}
  it.each([
    [{ out: 'r.json', horizon: '0' }, '--horizon must be a whole number'],
    [{ out: 'r.json', horizon: '2.5' }, '--horizon must be a whole number'],
    [{ out: 'r.json', from: '1 May' }, '--from must be YYYY-MM-DD'],
    [{ out: 'r.json', to: '2026-5-1' }, '--to must be YYYY-MM-DD'],
    [{ out: 'r.html', locale: 'fr' }, '--locale must be zh-CN or en'],
    [{}, 'report needs --out FILE'],
  ])('%j is refused by name before anything is read', async (flags, message) => {
    const command = runReportCommand({
      dataDir: join(dir, 'no-lake'),
      stdout: process.stdout,
      usage: (m) => new Usage(m),
      ...flags,
    });
    await expect(command).rejects.toBeInstanceOf(Usage);
    await expect(command).rejects.toThrow(message);
  });
});
