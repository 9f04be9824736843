import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useApiServer } from '../support/api-server.ts';
import { useTempDir } from '../support/temp-dir.ts';

/**
 * Every command the README and docs/ mark as runnable is run here, so the docs cannot drift from the
 * code. A fenced block whose info string says `sh runnable` runs in bash with `npx winback` and
 * `npm start` pointing at this checkout and `.winback` replaced by a temporary data dir; the demo
 * runs small (`--users 150 --days 2`) while the docs show the default. `sh runnable exit=1` expects
 * that exit code from the block's last command; any other failing command fails the test.
 *
 * `sh runnable-api` blocks run against a real `winback serve` (the same handlers, a frozen clock at
 * API_START) with `$API`, `$AUTH` and `$JSON` set; each `json response NNN` block after one is the
 * response its curl call must give: status and body, with generated ids masked. Ids from answers
 * (`recallId`, `jobId`, `nextToken`) are exported as `$RECALL_ID`, `$JOB_ID`, `$NEXT_TOKEN` for the
 * blocks after. `UPDATE_DOCS=1 npx vitest run test/docs` rewrites the response blocks from the run
 * (then `npx biome format --write docs` lays them out as the linter wants).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const API_START = new Date('2026-11-24T02:00:00.000Z');
const temp = useTempDir('winback-docs-');
const UPDATE = process.env.UPDATE_DOCS === '1';

interface Block {
  kind: 'cli' | 'api' | 'response';
  exit: number;
  status?: number;
  text: string;
  /** Offsets of the block's body in the file, for UPDATE_DOCS. */
  start: number;
  end: number;
}

const FENCE = /^```([^\n]*)\n([\s\S]*?)^```$/gm;

function blocksOf(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const m of markdown.matchAll(FENCE)) {
    const info = m[1]!.trim().split(/\s+/);
    const start = m.index! + m[0].indexOf('\n') + 1;
    const body = { text: m[2]!, start, end: start + m[2]!.length };
    const exit = Number(info.find((w) => w.startsWith('exit='))?.slice(5) ?? 0);
    if (info[0] === 'sh' && info.includes('runnable')) blocks.push({ kind: 'cli', exit, ...body });
    else if (info[0] === 'sh' && info.includes('runnable-api')) blocks.push({ kind: 'api', exit, ...body });
    else if (info[0] === 'json' && info[1] === 'response')
      blocks.push({ kind: 'response', exit: 0, status: Number(info[2]), ...body });
  }
  return blocks;
}

const docFiles = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
].filter((f) => blocksOf(readFileSync(join(ROOT, f), 'utf8')).some((b) => b.kind !== 'response'));

/** A smaller demo than the docs show: the same command, a test-sized run. */
function testSized(command: string): string {
  return command
    .replace(/--users \d+/g, '--users 150')
    .replace(/--days \d+/g, '--days 2')
    .replace(/^(\s*)npm start\s*$/gm, '$1npm start -- --users 150 --days 2');
}

/** Bash functions every block runs with: see the file. */
const PRELUDE = readFileSync(fileURLToPath(new URL('./prelude.sh', import.meta.url)), 'utf8');

/** One block as a bash script: exported variables come from the blocks before and go to the next. */
function script(block: Block, i: number, dataDir: string, state: string): string {
  const text = block.kind === 'cli' ? testSized(block.text).replaceAll('.winback', dataDir) : block.text;
  return [
    PRELUDE,
    `[ -f "${state}" ] && source "${state}" 2>/dev/null`,
    block.exit === 0 ? `trap 'echo "@@failed ${i} line $LINENO rc $?@@"' ERR` : '',
    `{\n${text}\n}`,
    'rc=$?',
    `export -p > "${state}"`,
    `echo "@@rc ${i} $rc@@"`,
  ].join('\n');
}

function bash(
  text: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', text], {
      cwd,
      env: { ...process.env, ...env, ROOT, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const VOLATILE = new Set([
  'recallId',
  'executionArn',
  'consoleUrl',
  'jobId',
  'messageId',
  'nextToken',
  'cursor',
  'rewardId',
]);

/** Generated ids differ run to run; everything else (times included: the clock is frozen) must match. */
function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, VOLATILE.has(k) && typeof v === 'string' ? '…' : masked(v)]),
    );
  return value;
}

/** Each curl answer in a block's output: its body (parsed when JSON) and status. */
function answersIn(output: string): { status: number; body: unknown }[] {
  const answers: { status: number; body: unknown }[] = [];
  let rest = output;
  for (;;) {
    const m = /@@status (\d{3})@@/.exec(rest);
    if (!m) return answers;
    const raw = rest
      .slice(0, m.index)
      .split('\n')
      .filter((l) => !l.startsWith('@@'))
      .join('\n')
      .trim();
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {}
    answers.push({ status: Number(m[1]), body });
    rest = rest.slice(m.index + m[0].length);
  }
}

describe('commands in the README and docs/', () => {
  const TOKEN = 'docs-token';
  const api = useApiServer({ token: TOKEN, start: API_START });

  it('there are runnable blocks to run', () => {
    expect(docFiles).toContain('README.md');
    expect(docFiles).toContain('docs/api.md');
  });

  for (const file of docFiles) {
    it(`${file}: every runnable block runs as documented`, async () => {
      const path = join(ROOT, file);
      let markdown = readFileSync(path, 'utf8');
      const blocks = blocksOf(markdown);
      const dataDir = join(temp.path(), file.replace(/\W/g, '-'), '.winback');
      const cwd = join(temp.path(), file.replace(/\W/g, '-'));
      // The docs name repository files (config/content.json) by their path from the root.
      await bash(`mkdir -p "${cwd}" && cp -r "$ROOT/config" "${cwd}/"`, {}, temp.path());
      const state = join(cwd, '.state.sh');
      const env = {
        API: api.server.url,
        WINBACK_API_TOKEN: TOKEN,
        AUTH: `Authorization: Bearer ${TOKEN}`,
        JSON: 'Content-Type: application/json',
      };
      const edits: { start: number; end: number; text: string }[] = [];
      let ran = 0;
      for (const [i, block] of blocks.entries()) {
        if (block.kind === 'response') continue;
        // Whatever the previous request started (a recall's first steps) has run before the next one.
        await api.server.runtime.idle();
        const { out: output } = await bash(script(block, i, dataDir, state), env, cwd);
        ran++;
        const where = `${file} block ${i}:\n${block.text}\n--- output ---\n${output.slice(-3000)}`;
        expect(output, where).not.toMatch(/@@failed/);
        const rc = Number(/@@rc \d+ (\d+)@@/.exec(output)?.[1]);
        expect(rc, where).toBe(block.exit);
        if (block.kind !== 'api') continue;
        let r = i + 1;
        for (const answer of answersIn(output)) {
          const doc = blocks[r];
          if (doc?.kind !== 'response') break;
          if (UPDATE) {
            const text = `${JSON.stringify(answer.body, null, 2)}\n`;
            edits.push({
              start: doc.start - `json response ${doc.status}\n`.length,
              end: doc.end,
              text: `json response ${answer.status}\n${text}`,
            });
          } else {
            expect(answer.status, where).toBe(doc.status);
            expect(masked(answer.body), where).toEqual(masked(JSON.parse(doc.text)));
          }
          r++;
        }
      }
      expect(ran).toBe(blocks.filter((b) => b.kind !== 'response').length);
      if (UPDATE && edits.length > 0) {
        for (const e of edits.sort((a, b) => b.start - a.start))
          markdown = markdown.slice(0, e.start) + e.text + markdown.slice(e.end);
        writeFileSync(path, markdown);
      }
    }, 600_000);
  }
});
