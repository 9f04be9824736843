import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import nodeSqlParser from 'node-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UpliftDraw, uplift } from '../../functions/domain/effectiveness.ts';

// queries/effectiveness/recall-draws.sql on DuckDB over hand-made rows, and parsed as Trino (Athena) SQL.
const SQL = readFileSync(new URL('../../queries/effectiveness/recall-draws.sql', import.meta.url), 'utf8');
const S = 20_000; // the draws' start day

let instance: DuckDBInstance;
let rows: Record<string, unknown>[];

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(`
      CREATE TABLE recalls (recallId VARCHAR, userId VARCHAR, holdout BOOLEAN, trigger VARCHAR,
        startedDayNumber INTEGER, lifecycle VARCHAR, level VARCHAR, channel VARCHAR, strategies VARCHAR[]);
      CREATE TABLE snapshots (userId VARCHAR, dayNumber INTEGER, daysSinceLogin INTEGER, daysSinceInvest INTEGER);
      INSERT INTO recalls VALUES
        ('r1', 'u1', false, 'scan', ${S}, 'novice', 'medium', 'ads', ['care']),
        ('r2', 'u2', true,  'scan', ${S}, 'novice', 'medium', 'ads', ['care']),
        ('r3', 'u3', false, 'scan', ${S}, 'growth', 'low', 'invite', []),
        ('r4', 'u4', true,  'scan', ${S}, 'growth', 'low', 'invite', []),
        ('r5', 'u5', false, 'manual', ${S}, 'mature', 'high', 'organic', ['reminder']);
      INSERT INTO snapshots VALUES
        -- u1: away 10 days at the start, logs in on day S+2 (seen as 0 then 1 day ago).
        ('u1', ${S - 1}, 9, 19), ('u1', ${S}, 10, 20), ('u1', ${S + 1}, 11, 21), ('u1', ${S + 2}, 0, 22), ('u1', ${S + 3}, 1, 23),
        -- u2: logged in before the scan on the start day (baseline, not a return), never invested, invests on S+4.
        ('u2', ${S}, 0, NULL), ('u2', ${S + 1}, 1, NULL), ('u2', ${S + 4}, 4, 0),
        -- u3: no start-day snapshot; the next day shows a login on the start day itself.
        ('u3', ${S + 1}, 1, 30),
        -- u4: stays away.
        ('u4', ${S}, 8, 40), ('u4', ${S + 1}, 9, 41), ('u4', ${S + 2}, 10, 42),
        -- another user's return does not leak into u5, who has no later snapshot.
        ('u9', ${S + 1}, 0, 0);
    `);
    const reader = await db.runAndReadAll(SQL);
    rows = reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    db.closeSync();
  }
});
afterAll(() => instance?.closeSync());

describe('queries/effectiveness/recall-draws.sql', () => {
  it('finds the first later login or investment day, the baseline at the start excluded (counted by hand)', () => {
    expect(
      rows.map((r) => [r.recallId, r.returnDayNumber === null ? null : Number(r.returnDayNumber)]),
    ).toEqual([
      ['r1', S + 2],
      ['r2', S + 4],
      ['r3', S],
      ['r4', null],
      ['r5', null],
    ]);
  });

  it('gives the uplift its draws', () => {
    const draws: UpliftDraw[] = rows.map((r) => ({
      holdout: r.holdout === true,
      trigger: r.trigger as UpliftDraw['trigger'],
      startedDayNumber: Number(r.startedDayNumber),
      returnDayNumber: r.returnDayNumber === null ? null : Number(r.returnDayNumber),
      strategy: (r.strategies as string[])[0] ?? 'reminder',
      lifecycle: String(r.lifecycle),
      level: String(r.level),
      channel: String(r.channel),
    }));
    // Recalled (scan): r1 back, r3 back; holdout: r2 back on S+4, r4 not; r5 is manual and left out.
    expect(uplift(draws, { asOfDayNumber: S + 13, windowDays: 13, minSamplePerArm: 1 })).toMatchObject({
      recalledN: 2,
      recalledReturned: 2,
      holdoutN: 2,
      holdoutReturned: 1,
      upliftPoints: 50,
    });
  });

  it('parses as Trino SQL, the dialect Athena runs', () => {
    const parser = new nodeSqlParser.Parser();
    expect(() => parser.astify(SQL, { database: 'trino' })).not.toThrow();
    expect(() => parser.astify('SELECT FROM recalls WHERE', { database: 'trino' })).toThrow();
  });
});
