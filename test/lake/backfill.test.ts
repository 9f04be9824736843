import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import type { SnapshotRow } from '../../functions/domain/snapshot.ts';
import { runBackfill } from '../../local/commands/backfill.ts';
import { aUser } from '../support/fixtures.ts';
import { useTempDir } from '../support/temp-dir.ts';

const tmp = useTempDir('winback-backfill-');

function sink() {
  let text = '';
  return {
    stream: {
      write: (s: string) => {
        text += s;
        return true;
      },
    } as unknown as NodeJS.WritableStream,
    text: () => text,
  };
}

async function rowsOf(dataDir: string, day: string): Promise<SnapshotRow[]> {
  const dir = join(dataDir, 'lake', 'snapshots', `day=${day}`);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return [];
  }
  const out: SnapshotRow[] = [];
  for (const name of names) {
    const text = gunzipSync(await readFile(join(dir, name))).toString('utf8');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as SnapshotRow);
  }
  return out;
}

const jsonl = (items: unknown[]) =>
  `${items.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))).join('\n')}\n`;

// Two users: `old` exists before the history starts, `new` registers on 2026-11-02 at 12:00 UTC.
const OLD = aUser({
  userId: 'old',
  channel: 'distribution',
  registeredAt: '2026-06-01T00:00:00.000Z',
  lastLoginAt: '2026-10-20T00:00:00.000Z',
  lastInvestAt: undefined,
  investCount: 0,
  maxInvestFen: 0,
  totalInvestedFen: 0,
  balanceFen: 0,
  heldBonusProduct: false,
});
const NEW = aUser({
  userId: 'new',
  registeredAt: '2026-11-02T12:00:00.000Z',
  lastLoginAt: undefined,
  lastInvestAt: undefined,
  investCount: 0,
  maxInvestFen: 0,
  totalInvestedFen: 0,
  balanceFen: 0,
});

describe('winback backfill', () => {
  it('rebuilds each day as of its scan time, from events in any order, and skips users not yet registered', async () => {
    const users = await tmp.file('users-1.jsonl', jsonl([OLD, NEW]));
    const events = await tmp.file(
      'events-1.jsonl',
      jsonl([
        // Out of order on purpose: the investment comes first in the file, the balance before it.
        {
          eventId: 'e3',
          userId: 'old',
          type: 'investment',
          at: '2026-11-03T00:30:00Z',
          amountFen: 2_000_000,
          productId: 'p',
          bonusRate: true,
        },
        { eventId: 'e2', userId: 'old', type: 'balance', at: '2026-11-02T05:00:00Z', balanceFen: 700 },
        // 09:00 Shanghai = 01:00 UTC: exactly at the scan it belongs to the next day, a millisecond earlier to this one.
        { eventId: 'e4', userId: 'new', type: 'login', at: '2026-11-03T01:00:00Z' },
        { eventId: 'e1', userId: 'old', type: 'login', at: '2026-11-02T00:59:59.999Z' },
        {
          eventId: 'e5',
          userId: 'old',
          type: 'balance',
          at: '2026-11-03T00:40:00+08:00',
          balanceFen: 2_000_000,
        },
        // A repeated event id is applied once.
        {
          eventId: 'e3',
          userId: 'old',
          type: 'investment',
          at: '2026-11-03T00:30:00Z',
          amountFen: 2_000_000,
          productId: 'p',
          bonusRate: true,
        },
      ]),
    );
    const dataDir = join(tmp.path(), 'data-1');
    const err = sink();
    const result = await runBackfill({
      users,
      events,
      from: '2026-11-01',
      to: '2026-11-04',
      dataDir,
      stderr: err.stream,
    });
    expect(err.text()).toBe('');
    expect(result).toMatchObject({
      users: 2,
      events: 5,
      duplicateEvents: 1,
      days: 4,
      rows: 1 + 1 + 2 + 2,
      bad: 0,
      exitCode: 0,
    });

    const nov1 = await rowsOf(dataDir, '2026-11-01');
    const nov2 = await rowsOf(dataDir, '2026-11-02');
    const nov3 = await rowsOf(dataDir, '2026-11-03');
    const nov4 = await rowsOf(dataDir, '2026-11-04');
    // 11-01: only `old`, as in the profile: 12 days since the 10-20 login.
    expect(nov1.map((r) => [r.userId, r.daysSinceLogin, r.balanceFen])).toEqual([['old', 12, 0]]);
    // 11-02 01:00Z: the login a millisecond before the scan counts; the 05:00 balance does not yet.
    expect(nov2.map((r) => [r.userId, r.daysSinceLogin, r.balanceFen])).toEqual([['old', 0, 0]]);
    // 11-03: `new` registered 11-02 12:00 and appears; its login exactly at the scan does not count yet.
    const old3 = nov3.find((r) => r.userId === 'old')!;
    expect(old3).toMatchObject({
      investCount: 1,
      maxInvestFen: 2_000_000,
      heldBonusProduct: true,
      daysSinceInvest: 0,
    });
    // 2026-11-03T00:40+08:00 is 11-02 16:40Z: counted on 11-03, and the latest balance wins.
    expect(old3.balanceFen).toBe(2_000_000);
    expect(nov3.find((r) => r.userId === 'new')).toMatchObject({
      daysSinceLogin: 0,
      registeredMonth: '2026-11',
    });
    expect(nov4.find((r) => r.userId === 'new')!.daysSinceLogin).toBe(1);

    // The same assess() and policy as the live scan.
    const expected = assess(
      { ...OLD, lastLoginAt: '2026-11-02T00:59:59.999Z', balanceFen: 0 },
      DEFAULT_POLICY,
      new Date('2026-11-02T01:00:00Z'),
    );
    expect([nov2[0]!.status, nov2[0]!.score, nov2[0]!.lifecycle]).toEqual([
      expected.status,
      expected.score,
      expected.lifecycle,
    ]);
  });

  it('names bad lines by file, line and field, skips them, keeps the rest, and exits 1', async () => {
    const users = await tmp.file(
      'users-2.jsonl',
      jsonl([OLD, { ...NEW, balanceFen: -5 }, '{"userId": oops', { ...OLD, channel: 'ads' }]),
    );
    const events = await tmp.file(
      'events-2.jsonl',
      jsonl([
        { eventId: 'a1', userId: 'old', type: 'login', at: '2026-11-01T00:00:00Z' },
        {
          eventId: 'a2',
          userId: 'old',
          type: 'investment',
          at: '2026-11-01T00:00:00Z',
          amountFen: 0,
          productId: 'p',
          bonusRate: false,
        },
        { eventId: 'a3', userId: 'ghost', type: 'login', at: '2026-11-01T00:00:00Z' },
        { eventId: 'a4', userId: 'old', type: 'withdrawal', at: '2026-11-01T00:00:00Z' },
        'not json',
        '',
        { eventId: 'a5', userId: 'old', type: 'login', at: 'yesterday' },
      ]),
    );
    const dataDir = join(tmp.path(), 'data-2');
    const err = sink();
    const result = await runBackfill({
      users,
      events,
      from: '2026-11-01',
      to: '2026-11-02',
      dataDir,
      stderr: err.stream,
    });
    expect(result).toMatchObject({ users: 1, events: 1, bad: 8, exitCode: 1, rows: 2 });
    const lines = err.text().trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^users-2\.jsonl:2 \(user new\): balanceFen: /),
      expect.stringMatching(/^users-2\.jsonl:3: /),
      'users-2.jsonl:4 (user old): userId: appears twice; the first line is kept',
      expect.stringMatching(/^events-2\.jsonl:2: amountFen: must be more than 0/),
      'events-2.jsonl:3: userId: no user ghost in users-2.jsonl',
      expect.stringMatching(/^events-2\.jsonl:4: type: /),
      expect.stringMatching(/^events-2\.jsonl:5: \(line\): not JSON/),
      expect.stringMatching(/^events-2\.jsonl:7: at: /),
    ]);
    expect((await rowsOf(dataDir, '2026-11-02'))[0]!.daysSinceLogin).toBe(1);
  });

  it('replaces its own parts when run again over the same days', async () => {
    const users = await tmp.file('users-3.jsonl', jsonl([OLD, NEW]));
    const events = await tmp.file('events-3.jsonl', '');
    const dataDir = join(tmp.path(), 'data-3');
    const err = sink();
    await runBackfill({ users, events, from: '2026-11-05', to: '2026-11-05', dataDir, stderr: err.stream });
    await runBackfill({ users, events, from: '2026-11-05', to: '2026-11-05', dataDir, stderr: err.stream });
    expect((await rowsOf(dataDir, '2026-11-05')).map((r) => r.userId).sort()).toEqual(['new', 'old']);
  });

  it('refuses days that are not days, or a range that runs backwards', async () => {
    const base = { users: 'u', events: 'e', dataDir: tmp.path(), stderr: sink().stream };
    await expect(runBackfill({ ...base, from: '2026-11-5', to: '2026-11-06' })).rejects.toThrow(
      /--from must be YYYY-MM-DD/,
    );
    await expect(runBackfill({ ...base, from: '2026-11-06', to: '2026-11-05' })).rejects.toThrow(
      /before --from/,
    );
  });
});
