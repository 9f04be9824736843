import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../../functions/domain/policy.ts';
import { formatLineError, readUserRecords } from '../jsonl.ts';

export interface AssessOptions {
  /** A JSON-lines file of user records, or '-' for stdin. */
  input: string;
  asOf: Date;
  policy: Policy;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Read when `input` is '-'; defaults to the process's stdin. */
  stdin?: NodeJS.ReadableStream;
}

export interface AssessResult {
  assessed: number;
  bad: number;
  exitCode: 0 | 1;
}

/** Writes a line and waits for 'drain' when the stream's buffer is full, so a huge input never piles up in memory. */
async function writeLine(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(`${text}\n`)) await once(stream, 'drain');
}

/**
 * Assesses every user in a JSON-lines file: one JSON assessment per line on stdout, one message per bad
 * line on stderr. A bad line does not stop the run, since one typo should not hide the other million
 * verdicts, but it does make the exit code 1. A missing or unreadable input file rejects.
 */
export async function runAssess(opts: AssessOptions): Promise<AssessResult> {
  const asOf = opts.asOf.toISOString();
  const input = opts.input === '-' ? (opts.stdin ?? process.stdin) : opts.input;
  let assessed = 0;
  let bad = 0;
  for await (const item of readUserRecords(input, 'record')) {
    if ('user' in item) {
      await writeLine(opts.stdout, JSON.stringify({ ...assess(item.user, opts.policy, opts.asOf), asOf }));
      assessed++;
    } else {
      await writeLine(opts.stderr, formatLineError(item));
      bad++;
    }
  }
  return { assessed, bad, exitCode: bad > 0 ? 1 : 0 };
}

/** A file named on the command line cannot be read or parsed: the message says which and why. */
export class InputFileError extends Error {
  override readonly name = 'InputFileError';
}

/**
 * The policy in a JSON override file, every default filled in; without a path, the default policy.
 * Every failure names the file, and for an invalid policy also the field and the reason.
 */
export async function loadPolicyFile(path?: string): Promise<Policy> {
  if (path === undefined) return DEFAULT_POLICY;
  return parsePolicy(await readPolicyOverrides(path), `policy file ${path}`);
}

/**
 * The override file as written, checked (an invalid one fails as loadPolicyFile does) but without
 * the defaults filled in: for a caller that adds defaults of its own (the demo's holdout share).
 */
export async function readPolicyOverrides(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputFileError(
      `cannot read policy file ${path}: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  let json: unknown;
  try {
    // A byte-order mark from a Windows editor is not JSON, but it is not the user's mistake either.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new InputFileError(
      `policy file ${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  parsePolicy(json, `policy file ${path}`);
  return json;
}
