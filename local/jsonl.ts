import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import {
  formatIssues,
  parseUserProfile,
  parseUserRecord,
  type UserRecord,
} from '../functions/domain/user.ts';

export type JsonLine = { line: number; value: unknown } | { line: number; error: string };
export type UserLine = { line: number; user: UserRecord } | LineError;
export interface LineError {
  line: number;
  userId?: string;
  error: string;
}

/** Which schema a line must satisfy: a stored record, or a profile import that rejects unknown fields. */
export type UserLineSchema = 'record' | 'profile';

/**
 * Lines of a stream or file, one at a time, 1-based. Lines end in LF or CRLF; the last line may lack
 * one. Reading is pulled by the consumer, so a slow consumer pauses the file rather than buffering it.
 */
async function* readLines(
  input: NodeJS.ReadableStream | string,
): AsyncGenerator<{ line: number; text: string }> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  // A decoder rather than chunk.toString(): a multi-byte character can straddle two chunks.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    let newline = pending.indexOf('\n', start);
    while (newline !== -1) {
      const end = newline > start && pending.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      yield { line: ++line, text: pending.slice(start, end) };
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0)
    yield { line: ++line, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending };
}

/**
 * Parses each non-blank line as JSON. Blank lines are skipped but counted, so line numbers match an
 * editor's; a line that is not JSON yields the parser's message and reading goes on.
 */
export async function* readJsonLines(input: NodeJS.ReadableStream | string): AsyncGenerator<JsonLine> {
  for await (const { line, text } of readLines(input)) {
    // Editors on Windows like to start a UTF-8 file with a byte-order mark, which JSON.parse rejects.
    const body = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    if (body.trim() === '') continue;
    try {
      yield { line, value: JSON.parse(body) as unknown };
    } catch (e) {
      yield { line, error: e instanceof Error ? e.message : String(e) };
    }
  }
}

function userIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { userId?: unknown }).userId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

/** Each line validated as a user record (or profile); invalid lines say which field is wrong and why. */
export async function* readUserRecords(
  input: NodeJS.ReadableStream | string,
  schema: UserLineSchema,
): AsyncGenerator<UserLine> {
  const parse = schema === 'profile' ? parseUserProfile : parseUserRecord;
  for await (const item of readJsonLines(input)) {
    if ('error' in item) {
      yield item;
      continue;
    }
    const result = parse(item.value);
    if (result.ok) {
      yield { line: item.line, user: result.value };
      continue;
    }
    const userId = userIdOf(item.value);
    const error = formatIssues(result.issues);
    yield userId === undefined ? { line: item.line, error } : { line: item.line, userId, error };
  }
}

/** `line 3 (user u42): balanceFen: must be a whole number of fen`, or `line 3: …` when no user id is known. */
export function formatLineError(e: LineError): string {
  return e.userId === undefined
    ? `line ${e.line}: ${e.error}`
    : `line ${e.line} (user ${e.userId}): ${e.error}`;
}
