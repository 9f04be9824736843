import { readFile } from 'node:fs/promises';
import type { Policy } from '../../functions/domain/policy.ts';
import {
  CHANNELS,
  ContentError,
  type ContentProblem,
  checkContent,
  LOCALES,
  parseContent,
} from '../../functions/domain/templates.ts';
import { InputFileError } from './assess.ts';

/**
 * `winback content check FILE`: the checks a synth runs on config/content.json, on any file, so an
 * operator sees every problem (by template name) before a deploy. Exit 0 when the file is good.
 */
export async function runContentCheck(
  path: string,
  policy: Policy,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let json: unknown;
  try {
    const text = await readFile(path, 'utf8');
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new InputFileError(
      `content file ${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  let problems: ContentProblem[];
  let templates = 0;
  try {
    const content = parseContent(json, `content file ${path}`);
    templates = Object.keys(content.templates).length;
    problems = checkContent(content, policy);
  } catch (e) {
    if (!(e instanceof ContentError)) throw e;
    problems = e.problems;
  }
  for (const p of problems) err.write(`${path}: ${p.template}: ${p.message}\n`);
  if (problems.length > 0) {
    err.write(
      `${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing in ${path} was accepted\n`,
    );
    return 1;
  }
  out.write(
    `${path}: ok (${templates} strategies × ${LOCALES.length} locales × ${CHANNELS.length} channels; every SMS fits one segment)\n`,
  );
  return 0;
}
