import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStoreDir, STORE_LOCK, STORE_MARKER, StoreDirError } from '../../local/store-dir.ts';
import { type Run, winback, winbackUntil } from '../support/cli.ts';
import { useTempDir } from '../support/temp-dir.ts';

const temp = useTempDir('winback-errors-');
let n = 0;
/** A fresh path inside the temp folder, not created. */
const fresh = () => join(temp.path(), `case-${++n}`);

/** Every expected error: a non-zero exit, exactly one line on stderr naming the problem, no stack. */
function expectOneLine(run: Run, code: number, text: string | RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^winback: /);
  if (typeof text === 'string') expect(lines[0]).toContain(text);
  else expect(lines[0]).toMatch(text);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('winback CLI: clear errors on the command line', { timeout: 120_000 }, () => {
  it('each bad option exits 2 with one line naming the option and the fix', async () => {
    const cases: [string[], string][] = [
      [['demo', '--users', '-5'], 'winback: --users must be a whole number 1 or more, got "-5"'],
      [['demo', '--users', '0'], '--users must be a whole number 1 or more, got "0"'],
      [['demo', '--days', '2.5'], '--days must be a whole number from 1 to 3650, got "2.5"'],
      [['demo', '--bogus'], 'winback: unknown option --bogus for "demo"; see "winback help"'],
      [['demo', '--users'], '--users needs a value'],
      [['export', 'users', '--users', '5'], '"export" takes no --users'],
      [
        ['serve', '--port', '70000'],
        '--port must be a port number from 1 to 65535 (0: any free port), got "70000"',
      ],
      [['serve', '--port', '-1'], '--port must be a port number from 1 to 65535'],
      [['serve', '--port', 'http'], '--port must be a port number'],
      [['serve', '--day-seconds', '0'], '--day-seconds must be a number of seconds above 0'],
      [['assess', '--input', join('no', 'such.jsonl')], 'winback: --input no/such.jsonl: no such file'],
      [['content', 'check', 'missing.json'], 'content check missing.json: no such file'],
    ];
    const runs = await Promise.all(cases.map(([args]) => winback(args)));
    runs.forEach((run, i) => {
      expectOneLine(run, 2, cases[i]![1]);
    });
  });

  it('a policy file that does not parse is named in one line, exit 1', async () => {
    const policy = await temp.file('bad-policy.json', '{"churn": {"inactiveDays": "thirty"}}');
    const run = await winback(['assess', '--input', '-', '--policy', policy]);
    expectOneLine(run, 1, `invalid policy file ${policy}: churn.inactiveDays: must be a number`);
  });
});

describe('winback CLI: a --data-dir that cannot be used is refused before anything is written', {
  timeout: 120_000,
}, () => {
  it('a file: refused, the file untouched', async () => {
    const file = await temp.file('a-file.txt', 'mine\n');
    const runs = await Promise.all([
      winback(['export', 'users', '--data-dir', file]),
      winback(['demo', '--users', '10', '--days', '1', '--data-dir', file]),
    ]);
    for (const run of runs) expectOneLine(run, 1, `--data-dir ${file} is a file, not a folder`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('missing, for commands that read a store: refused, nothing created', async () => {
    const dir = fresh();
    const runs = await Promise.all([
      winback(['export', 'users', '--data-dir', dir]),
      winback(['recall', 'u-1', '--data-dir', dir]),
    ]);
    for (const run of runs)
      expectOneLine(
        run,
        1,
        `--data-dir ${dir} does not exist; create a store with "winback demo --data-dir ${dir}"`,
      );
    expect(existsSync(dir)).toBe(false);
  });

  it('a folder that is not a winback store: refused, no database files dropped in it', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'thesis.tex'), 'x');
    const input = await temp.file('one.jsonl', '');
    const runs = await Promise.all([
      winback(['export', 'users', '--data-dir', dir]),
      winback(['import', input, '--data-dir', dir]),
    ]);
    for (const run of runs)
      expectOneLine(run, 1, `--data-dir ${dir} is not a winback store (no ${STORE_MARKER})`);
    expect(readdirSync(dir)).toEqual(['thesis.tex']);
  });

  it('held by a running serve: refused with its pid; free again once it stops', async () => {
    const dir = fresh();
    const serve = await winbackUntil(
      ['serve', '--data-dir', dir, '--port', '0', '--insecure-local'],
      /winback API on http/,
      {},
      180_000,
    );
    try {
      const lock = JSON.parse(readFileSync(join(dir, STORE_LOCK), 'utf8')) as { pid: number };
      expect(lock.pid).toBe(serve.child.pid);
      const run = await winback(['export', 'users', '--data-dir', dir]);
      expectOneLine(
        run,
        1,
        new RegExp(
          `--data-dir ${dir} is in use by "winback serve" \\(pid ${serve.child.pid}, since .+\\); stop it first`,
        ),
      );
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    expect(existsSync(join(dir, STORE_LOCK))).toBe(false);
    const after = await winback(['export', 'users', '--data-dir', dir]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toContain('exported 0 users');
  }, 240_000);
});

describe('openStoreDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = fresh();
  });
  const held: { release(): void }[] = [];
  afterEach(() => {
    for (const h of held.splice(0)) h.release();
  });

  it('creates the marker and the lock in a new folder, and removes the lock on release', () => {
    const lock = openStoreDir(dir, 'create', 'demo', new Date('2026-11-24T01:00:00Z'));
    expect(JSON.parse(readFileSync(join(dir, STORE_MARKER), 'utf8'))).toEqual({
      winbackStore: 1,
      createdAt: '2026-11-24T01:00:00.000Z',
    });
    expect(JSON.parse(readFileSync(join(dir, STORE_LOCK), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'demo',
    });
    lock.release();
    expect(readdirSync(dir)).toEqual([STORE_MARKER]);
    // Once a store, it opens as one.
    held.push(openStoreDir(dir, 'existing', 'export'));
  });

  it('takes over a lock whose process is gone', () => {
    openStoreDir(dir, 'create', 'demo').release();
    // A pid far above any pid_max: no such process.
    writeFileSync(join(dir, STORE_LOCK), JSON.stringify({ pid: 2 ** 30, command: 'serve', since: 'x' }));
    const lock = openStoreDir(dir, 'existing', 'export');
    held.push(lock);
    expect(JSON.parse(readFileSync(join(dir, STORE_LOCK), 'utf8')).pid).toBe(process.pid);
  });

  it('refuses a lock held by a live process, and an empty folder for reading', () => {
    held.push(openStoreDir(dir, 'create', 'serve'));
    expect(() => openStoreDir(dir, 'existing', 'export')).toThrow(StoreDirError);
    expect(() => openStoreDir(dir, 'existing', 'export')).toThrow(/in use by "winback serve"/);
    const empty = fresh();
    mkdirSync(empty);
    expect(() => openStoreDir(empty, 'existing', 'export')).toThrow(/is an empty folder, not a store/);
    expect(readdirSync(empty)).toEqual([]);
  });
});
