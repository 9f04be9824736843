import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * A `--data-dir` is a winback store only when it says so: `winback-store.json` is written when a
 * store is created, and every command checks it before the store's LevelDB files are touched. So a
 * typo in a path never drops database files into someone's folder, and `export` of a path that
 * does not exist is an error instead of an empty store. `winback-store.lock` holds the pid of the
 * process using the store; a second process is refused while that pid lives, and a lock left by a
 * process that died is taken over.
 */

export const STORE_MARKER = 'winback-store.json';
export const STORE_LOCK = 'winback-store.lock';
const MARKER_VERSION = 1;

/** An expected problem with the data dir: one line for the user, nothing written. */
export class StoreDirError extends Error {
  override readonly name = 'StoreDirError';
}

export interface StoreLock {
  dir: string;
  release(): void;
}

interface LockContent {
  pid: number;
  command: string;
  since: string;
}

export type StoreMode =
  /** demo, import, serve: a new or empty folder becomes a store. */
  | 'create'
  /** export, recall, report: the store must already exist. */
  | 'existing';

function statOf(path: string) {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Checks that `dir` is (or may become) a winback store and locks it for this process. Refusals
 * happen before anything is written. `command` names the lock's holder in another process's error.
 */
export function openStoreDir(dir: string, mode: StoreMode, command: string, now = new Date()): StoreLock {
  const path = resolve(dir);
  const stat = statOf(path);
  if (stat && !stat.isDirectory()) {
    throw new StoreDirError(`--data-dir ${dir} is a file, not a folder; give a folder for the store`);
  }
  const marker = join(path, STORE_MARKER);
  if (!stat) {
    if (mode === 'existing') {
      throw new StoreDirError(
        `--data-dir ${dir} does not exist; create a store with "winback demo --data-dir ${dir}" or "winback import FILE --data-dir ${dir}"`,
      );
    }
  } else if (!statOf(marker)) {
    const entries = readdirSync(path);
    if (entries.length > 0) {
      throw new StoreDirError(
        mode === 'create'
          ? `--data-dir ${dir} is not a winback store (no ${STORE_MARKER}) and not empty; give a new or empty folder`
          : `--data-dir ${dir} is not a winback store (no ${STORE_MARKER}); give the folder demo, import or serve wrote`,
      );
    }
    if (mode === 'existing') {
      throw new StoreDirError(
        `--data-dir ${dir} is an empty folder, not a store; create one with "winback demo --data-dir ${dir}" or "winback import FILE --data-dir ${dir}"`,
      );
    }
  }
  const lock = takeLock(path, dir, command, now);
  if (!statOf(marker)) {
    mkdirSync(path, { recursive: true });
    writeFileSync(
      marker,
      `${JSON.stringify({ winbackStore: MARKER_VERSION, createdAt: now.toISOString() })}\n`,
    );
  }
  return lock;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockContent | undefined {
  try {
    const content = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    return typeof content.pid === 'number'
      ? {
          pid: content.pid,
          command: String(content.command ?? 'winback'),
          since: String(content.since ?? ''),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

function takeLock(path: string, dir: string, command: string, now: Date): StoreLock {
  const file = join(path, STORE_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    const holder = statOf(file) ? readLock(file) : undefined;
    if (holder && alive(holder.pid)) {
      throw new StoreDirError(
        `--data-dir ${dir} is in use by "winback ${holder.command}" (pid ${holder.pid}${holder.since ? `, since ${holder.since}` : ''}); stop it first or use another --data-dir`,
      );
    }
    // No holder, or one that died without releasing: the lock is free to take.
    if (statOf(file)) unlinkSync(file);
    mkdirSync(path, { recursive: true });
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (error) {
      // Another process took it between our check and our create: look again.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    const content: LockContent = { pid: process.pid, command, since: now.toISOString() };
    writeFileSync(fd, `${JSON.stringify(content)}\n`);
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      if (readLock(file)?.pid === process.pid) unlinkSync(file);
    };
    // A crash that skips `finally` still frees the store for the next command.
    process.on('exit', release);
    return { dir: path, release };
  }
  throw new StoreDirError(`--data-dir ${dir} is being opened by another winback process; try again`);
}
