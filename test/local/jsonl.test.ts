import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLineError, readJsonLines, readUserRecords } from '../../local/jsonl.ts';
import { aUser } from '../support/fixtures.ts';
import { useTempDir } from '../support/temp-dir.ts';

const tmp = useTempDir('winback-jsonl-');
const file = tmp.file;

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

const good = (id: string) => JSON.stringify(aUser({ userId: id }));
const { balanceFen: _omitted, ...missingBalance } = aUser({ userId: 'u42' });

describe('readJsonLines', () => {
  it('numbers lines from 1, skips blank lines but counts them, and reports non-JSON with the parser message', async () => {
    const path = await file('mixed.jsonl', '{"a":1}\n\n   \nnot json\n[2]\n');
    expect(await collect(readJsonLines(path))).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, error: expect.stringContaining('not valid JSON') },
      { line: 5, value: [2] },
    ]);
  });

  it('handles CRLF line endings and a last line without a newline', async () => {
    const path = await file('crlf.jsonl', '{"a":1}\r\n\r\n{"b":2}\r\n{"c":3}');
    expect(await collect(readJsonLines(path))).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, value: { b: 2 } },
      { line: 4, value: { c: 3 } },
    ]);
  });

  it('reassembles lines, CRLFs and multi-byte characters split across stream chunks', async () => {
    const bytes = Buffer.from('{"name":"张三"}\r\n{"name":"李四"}\n');
    // Cut inside 张 (3 bytes in UTF-8), between \r and \n, and in the middle of the second line.
    const cuts = [10, 17, 18, 25];
    const chunks = [0, ...cuts].map((from, i) => bytes.subarray(from, cuts[i] ?? bytes.length));
    expect(await collect(readJsonLines(Readable.from(chunks)))).toEqual([
      { line: 1, value: { name: '张三' } },
      { line: 2, value: { name: '李四' } },
    ]);
  });

  it('ignores a UTF-8 byte-order mark at the start of the file', async () => {
    const path = await file('bom.jsonl', '\uFEFF{"a":1}\n');
    expect(await collect(readJsonLines(path))).toEqual([{ line: 1, value: { a: 1 } }]);
  });

  it('yields nothing for an empty file and rejects for a missing one', async () => {
    expect(await collect(readJsonLines(await file('empty.jsonl', '')))).toEqual([]);
    await expect(collect(readJsonLines(join(tmp.path(), 'nope.jsonl')))).rejects.toThrow(
      /ENOENT.*nope\.jsonl/,
    );
  });
});

describe('readUserRecords', () => {
  it('yields valid users and names the line, the user and the field of invalid ones', async () => {
    const path = await file(
      'users.jsonl',
      [good('u1'), '', '{"userId": "u3", oops', JSON.stringify(missingBalance), good('u5')].join('\r\n'),
    );
    const items = await collect(readUserRecords(path, 'record'));
    expect(items.map((i) => ('user' in i ? `${i.line}:${i.user.userId}` : formatLineError(i)))).toEqual([
      '1:u1',
      'line 3: Expected double-quoted property name in JSON at position 17 (line 1 column 18)',
      'line 4 (user u42): balanceFen: required',
      '5:u5',
    ]);
    const first = items[0];
    expect(first && 'user' in first ? first.user : undefined).toEqual(aUser({ userId: 'u1' }));
  });

  it('reports a wrong type with the schema message', async () => {
    const path = await file('fraction.jsonl', JSON.stringify(aUser({ userId: 'u42', balanceFen: 1.5 })));
    const [item] = await collect(readUserRecords(path, 'record'));
    expect(item && 'error' in item ? formatLineError(item) : item).toBe(
      'line 1 (user u42): balanceFen: must be a whole number of fen',
    );
  });

  it('keeps unknown fields out of a record but rejects them in a profile', async () => {
    const path = await file('extra.jsonl', JSON.stringify({ ...aUser({ userId: 'u7' }), nickname: 'x' }));
    const [asRecord] = await collect(readUserRecords(path, 'record'));
    expect(asRecord && 'user' in asRecord ? Object.keys(asRecord.user) : asRecord).not.toContain('nickname');
    const [asProfile] = await collect(readUserRecords(path, 'profile'));
    expect(asProfile).toEqual({ line: 1, userId: 'u7', error: 'nickname: unknown field' });
  });

  it('reports a line that is JSON but not an object without a user id', async () => {
    const path = await file('array.jsonl', '[1,2]\n');
    const [item] = await collect(readUserRecords(path, 'record'));
    expect(item).toEqual({ line: 1, error: expect.stringMatching(/^\(record\): /) });
  });
});

describe('formatLineError', () => {
  it('formats with and without a user id', () => {
    expect(
      formatLineError({ line: 3, userId: 'u42', error: 'balanceFen: must be a whole number of fen' }),
    ).toBe('line 3 (user u42): balanceFen: must be a whole number of fen');
    expect(formatLineError({ line: 9, error: 'Unexpected end of JSON input' })).toBe(
      'line 9: Unexpected end of JSON input',
    );
  });
});
