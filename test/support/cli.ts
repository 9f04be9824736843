import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The real CLI as a child process: `node bin/winback.js …` with the Node running the tests (the
 * pinned one). Commands that open a store synthesize the stack and start dynalite: seconds each.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function winback(args: readonly string[], timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/winback.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Starts a long-running command (serve) and resolves once its stdout shows `ready`. */
export function winbackUntil(
  args: readonly string[],
  ready: RegExp,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; stdout: () => string; stop: () => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/winback.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`winback ${args.join(' ')} did not get ready: ${out}${err}`));
    }, timeoutMs);
    const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({
          child,
          stdout: () => out,
          stop: async () => {
            child.kill('SIGINT');
            return closed;
          },
        });
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`winback ${args.join(' ')} exited ${code}: ${out}${err}`));
    });
  });
}
