import { z } from 'zod';

/**
 * One vocabulary for every validation message winback prints or returns (CLI lines, API `issues`,
 * policy and content files): "required", "must be a number", "must be one of a, b". A schema that
 * names its own rule ("must be a whole number of fen") keeps it: zod prefers a schema's message to
 * this map, so this only replaces zod's own wording ("Invalid input: expected number, received
 * undefined"). Messages never repeat the received value: it may be a phone number.
 */

type RawIssue = z.core.$ZodRawIssue;

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  date: 'a date',
  null: 'null',
};

function list(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

function bound(issue: RawIssue, word: 'least' | 'most'): string | undefined {
  const limit = Number(word === 'least' ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      if (word === 'least' && limit === 1) return 'must not be empty';
      return `must be at ${word} ${limit} characters`;
    case 'array':
    case 'set':
      if (word === 'least' && limit === 1) return 'must not be empty';
      return `must have at ${word} ${limit} items`;
    case 'number':
    case 'int':
    case 'bigint':
      if (inclusive) return `must be at ${word} ${limit}`;
      return word === 'least' ? `must be more than ${limit}` : `must be less than ${limit}`;
    default:
      return undefined;
  }
}

/** The vocabulary's message for a zod issue that has no message of its own. */
export function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `must be ${TYPE_WORDS[String(issue.expected)] ?? String(issue.expected)}`;
    case 'too_small':
      return bound(issue, 'least');
    case 'too_big':
      return bound(issue, 'most');
    case 'invalid_value':
      return issue.values && issue.values.length === 1
        ? `must be ${list(issue.values)}`
        : `must be one of ${list(issue.values ?? [])}`;
    case 'invalid_format':
      if (issue.format === 'datetime') return 'must be an ISO-8601 time, e.g. 2026-11-24T09:00:00Z';
      if (issue.format === 'date') return 'must be a date YYYY-MM-DD';
      return issue.format === 'regex' ? 'has the wrong format' : `must be a valid ${String(issue.format)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_union':
      return 'matches none of the allowed forms';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    default:
      return undefined;
  }
}

// Global on purpose: every schema in the process (user records, API requests, policy, content)
// speaks the same words without each parse call having to remember an error map.
z.config({ customError: issueMessage });
