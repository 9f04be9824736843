import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WinbackLogger } from '../../functions/adapters/logger.ts';
import { UserRepository } from '../../functions/adapters/user-repository.ts';
import { countAssessment, emptyTotals, type ScanTotals } from '../../functions/domain/analytics.ts';
import { assess } from '../../functions/domain/assessment.ts';
import { DEFAULT_POLICY } from '../../functions/domain/policy.ts';
import type { UserRecord } from '../../functions/domain/user.ts';
import { InvalidScanEventError, scanSegmentHandler } from '../../functions/handlers/scan-segment.ts';
import { scanSummaryHandler } from '../../functions/handlers/scan-summary.ts';
import type { RecallTrigger, ScanSegmentResult } from '../../functions/use-cases/scan-segment.ts';
import { generateUsers } from '../../local/seed.ts';
import { synthTemplate } from '../../local/synth.ts';
import { tablesFromTemplate } from '../../local/template.ts';
import { createTablesForTest, useLocalDynamo } from '../support/dynalite.ts';
import { AS_OF, aUser } from '../support/fixtures.ts';

const dynamo = useLocalDynamo();
const ASOF = AS_OF.toISOString();
const COUNT = 500;
const SEGMENTS = 4;
const PAGE = 25;
const seeded: UserRecord[] = [...generateUsers({ count: COUNT, seed: 20261124, asOf: AS_OF })];
// Records the app's backend wrote wrongly: the scan must report them and go on.
const INVALID = [
  { ...aUser({ userId: 'bad-balance' }), balanceFen: 'lots' },
  { ...aUser({ userId: 'bad-channel' }), channel: 42 },
];

let users: UserRepository;

/** What the default policy makes of the seeded users, counted the way the scan counts. */
function expectedTotals(): ScanTotals {
  const totals = emptyTotals();
  for (const user of seeded) {
    const a = assess(user, DEFAULT_POLICY, AS_OF);
    countAssessment(totals, a, user.channel);
  }
  return totals;
}
const expected = expectedTotals();
const notActive = COUNT - expected.byStatus.active;

/** A logger that keeps what it is told. Plain arrays, not vi.fn(): vitest clears mock calls before each test. */
function spyLogger() {
  const lines: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      void lines.push({ level, message, extra });
  const logger: WinbackLogger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return Object.assign(logger, { lines });
}

/** The repository, watched: which users were read, which got an assessment written, the page sizes. */
function watched(repo: UserRepository) {
  const assessed: string[] = [];
  const scanned: string[] = [];
  const pages: number[] = [];
  const record = repo.recordAssessment.bind(repo);
  const scanPage = repo.scanPage.bind(repo);
  const spy = Object.create(repo) as UserRepository;
  spy.recordAssessment = async (assessment, at) => {
    assessed.push(assessment.userId);
    return record(assessment, at);
  };
  spy.scanPage = async (...args) => {
    const page = await scanPage(...args);
    pages.push(page.items.length);
    scanned.push(...page.items.map((i) => String(i.userId)));
    return page;
  };
  return { repo: spy, assessed, scanned, pages };
}

function recallSpy() {
  const considered: string[] = [];
  const trigger: RecallTrigger = {
    consider: async (user) => {
      considered.push(user.userId);
      return 'not_started';
    },
  };
  return { trigger, considered };
}

beforeAll(async () => {
  const defs = tablesFromTemplate(synthTemplate()).filter((d) => d.name === 'Users');
  const [table] = await createTablesForTest(defs, dynamo.tablePrefix, dynamo.client);
  users = new UserRepository(dynamo.doc, table!.name);
  await users.putMany(seeded);
  for (const item of INVALID) await dynamo.doc.send(new PutCommand({ TableName: table!.name, Item: item }));
});

describe('scan-segment handler over dynalite', () => {
  let results: ScanSegmentResult[];
  let logger: ReturnType<typeof spyLogger>;
  let watch: ReturnType<typeof watched>;
  let recalls: ReturnType<typeof recallSpy>;

  beforeAll(async () => {
    logger = spyLogger();
    watch = watched(users);
    recalls = recallSpy();
    const deps = {
      users: watch.repo,
      policy: DEFAULT_POLICY,
      recalls: recalls.trigger,
      logger,
      pageLimit: PAGE,
      remainingMs: () => 10 * 60_000,
    };
    results = await Promise.all(
      Array.from({ length: SEGMENTS }, (_, segment) =>
        scanSegmentHandler({ asOf: ASOF, segment, totalSegments: SEGMENTS }, deps),
      ),
    );
  });

  it('finishes every segment within its time budget', () => {
    expect(results.map((r) => [r.segment, r.totalSegments, r.done, r.asOf])).toEqual(
      [0, 1, 2, 3].map((s) => [s, SEGMENTS, true, ASOF]),
    );
    for (const r of results) expect(r).not.toHaveProperty('cursor');
  });

  it('assesses every valid user exactly once across the segments', () => {
    expect(results.reduce((n, r) => n + r.totals.assessed, 0)).toBe(COUNT);
    expect(results.reduce((n, r) => n + r.totals.scanned, 0)).toBe(COUNT + INVALID.length);
    expect(watch.scanned).toHaveLength(COUNT + INVALID.length);
    expect(new Set(watch.scanned).size).toBe(COUNT + INVALID.length);
    // Nothing was stored yet, so every assessment was written, once.
    expect(results.reduce((n, r) => n + r.totals.written, 0)).toBe(COUNT);
    expect(watch.assessed).toHaveLength(COUNT);
    expect(new Set(watch.assessed)).toEqual(new Set(seeded.map((u) => u.userId)));
    // Each segment did part of the work.
    for (const r of results) expect(r.totals.assessed).toBeGreaterThan(0);
  });

  it('read the table page by page', () => {
    expect(watch.pages.every((n) => n <= PAGE)).toBe(true);
    expect(watch.pages.reduce((a, b) => a + b, 0)).toBe(COUNT + INVALID.length);
    expect(watch.pages.length).toBeGreaterThanOrEqual(Math.ceil((COUNT + INVALID.length) / PAGE));
  });

  it('counts what the policy decides for each user, by status, level, stage and channel', () => {
    const sum = (pick: (t: ScanTotals) => number) => results.reduce((n, r) => n + pick(r.totals), 0);
    expect(sum((t) => t.byStatus.active)).toBe(expected.byStatus.active);
    expect(sum((t) => t.byStatus.at_risk)).toBe(expected.byStatus.at_risk);
    expect(sum((t) => t.byStatus.churned)).toBe(expected.byStatus.churned);
    expect(sum((t) => t.byLevel.high)).toBe(expected.byLevel.high);
    expect(sum((t) => t.byLifecycle.novice.churned)).toBe(expected.byLifecycle.novice.churned);
    expect(sum((t) => t.byChannel.distribution?.churned ?? 0)).toBe(expected.byChannel.distribution!.churned);
    // The seeded base is not all of one kind, or the counts above would prove little.
    expect(expected.byStatus.active).toBeGreaterThan(0);
    expect(expected.byStatus.churned).toBeGreaterThan(0);
  });

  it('offers every user not active to the recall trigger, once, and counts its answers', () => {
    expect(recalls.considered).toHaveLength(notActive);
    expect(new Set(recalls.considered).size).toBe(notActive);
    expect(results.reduce((n, r) => n + (r.totals.recalls.not_started ?? 0), 0)).toBe(notActive);
  });

  it('writes the assessment with assessedAt = asOf onto every valid record', async () => {
    const stored = await Promise.all(seeded.map((u) => users.get(u.userId)));
    const assessedAt = new Set(
      stored.map((s) => (s?.assessment as { assessedAt?: string } | undefined)?.assessedAt),
    );
    expect([...assessedAt]).toEqual([ASOF]);
    const sample = seeded[17]!;
    expect((await users.get(sample.userId))?.assessment).toMatchObject({
      status: assess(sample, DEFAULT_POLICY, AS_OF).status,
      score: assess(sample, DEFAULT_POLICY, AS_OF).score,
    });
  });

  it('counts, logs and reports invalid records with their key and failing field, and leaves them alone', async () => {
    expect(results.reduce((n, r) => n + r.totals.invalid, 0)).toBe(2);

    const reported = results.flatMap((r) => r.invalidRecords);
    expect(reported).toHaveLength(2);
    expect(reported.find((r) => r.userId === 'bad-balance')?.issues.map((i) => i.field)).toEqual([
      'balanceFen',
    ]);
    expect(reported.find((r) => r.userId === 'bad-channel')?.issues.map((i) => i.field)).toEqual(['channel']);

    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(2);
    expect(warnings).toContainEqual({
      level: 'warn',
      message: 'invalid user record skipped',
      extra: [{ userId: 'bad-balance', issues: [{ field: 'balanceFen', message: expect.any(String) }] }],
    });
    expect(warnings).toContainEqual({
      level: 'warn',
      message: 'invalid user record skipped',
      extra: [{ userId: 'bad-channel', issues: [{ field: 'channel', message: expect.any(String) }] }],
    });
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);

    expect(await users.get('bad-balance')).not.toHaveProperty('assessment');
    expect(watch.assessed).not.toContain('bad-balance');
  });

  it('sums the segments into one digest for operators, listing the invalid records', async () => {
    const notify = vi.fn(async () => {});
    const summary = await scanSummaryHandler(
      { asOf: ASOF, segments: results },
      { notifier: { notify }, logger: spyLogger() },
    );

    expect(summary.totals.assessed).toBe(COUNT);
    expect(summary.totals.invalid).toBe(2);
    expect(summary.totals.byStatus).toEqual(expected.byStatus);
    expect(notify).toHaveBeenCalledTimes(1);
    expect(notify).toHaveBeenCalledWith({
      kind: 'daily_digest',
      subject: 'daily digest 2026-11-24',
      message: summary.digest,
    });
    expect(summary.digest).toMatch(
      new RegExp(`users scanned ${COUNT + 2}, assessed ${COUNT}\\b.*, invalid records 2`),
    );
    expect(summary.digest).toMatch(/invalid records \(first 2 of 2\):/);
    expect(summary.digest).toMatch(/^ {2}bad-balance: balanceFen: /m);
    expect(summary.digest).toMatch(/^ {2}bad-channel: channel: /m);
  });
});

describe('a second run on the same day', () => {
  it('assesses everyone again but writes nothing back: the stored assessments say the same', async () => {
    const watch = watched(users);
    const result = await scanSegmentHandler(
      { asOf: ASOF, segment: 0, totalSegments: 1 },
      {
        users: watch.repo,
        policy: DEFAULT_POLICY,
        recalls: recallSpy().trigger,
        logger: spyLogger(),
        remainingMs: () => 60_000,
      },
    );
    expect(result.totals).toMatchObject({ scanned: COUNT + 2, assessed: COUNT, written: 0, invalid: 2 });
    expect(watch.assessed).toEqual([]);
  });
});

describe('a recall start that fails for one user', () => {
  it('is counted and logged, and every other user is still offered for recall', async () => {
    const offered: string[] = [];
    let failedFor = '';
    const trigger: RecallTrigger = {
      consider: async (user) => {
        if (!failedFor) {
          failedFor = user.userId;
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        }
        offered.push(user.userId);
        return 'started';
      },
    };
    const logger = spyLogger();
    const result = await scanSegmentHandler(
      { asOf: ASOF, segment: 0, totalSegments: 1 },
      { users, policy: DEFAULT_POLICY, recalls: trigger, logger, remainingMs: () => 60_000 },
    );
    const notActive = result.totals.byStatus.at_risk + result.totals.byStatus.churned;
    expect(result.totals.recalls).toEqual({ error: 1, started: notActive - 1 });
    expect(offered).toHaveLength(notActive - 1);
    expect(offered).not.toContain(failedFor);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'could not start a recall',
        extra: [{ userId: failedFor, error: 'ThrottlingException' }],
      },
    ]);
  });
});

describe('cursor hand-over', () => {
  let logger: ReturnType<typeof spyLogger>;
  beforeEach(() => {
    logger = spyLogger();
  });

  it('hands over after the first page when time runs short, and the next call finishes the segment', async () => {
    const watch = watched(users);
    const deps = {
      users: watch.repo,
      policy: DEFAULT_POLICY,
      recalls: recallSpy().trigger,
      logger,
      pageLimit: 40,
    };

    const first = await scanSegmentHandler(
      { asOf: ASOF, segment: 1, totalSegments: 2 },
      { ...deps, reserveMs: 30_000, remainingMs: () => 29_999 },
    );

    expect(first.done).toBe(false);
    expect(first.cursor).toEqual({ userId: expect.any(String) });
    expect(watch.pages).toEqual([40]);
    expect(first.totals.scanned).toBe(40);

    const second = await scanSegmentHandler(
      { asOf: ASOF, segment: 1, totalSegments: 2, cursor: first.cursor, totals: first.totals },
      { ...deps, reserveMs: 30_000, remainingMs: () => 30_001 },
    );

    expect(second.done).toBe(true);
    expect(second).not.toHaveProperty('cursor');
    expect(watch.pages.length).toBeGreaterThan(2);
    // The resumed call carries the totals on: they are the whole segment's.
    const whole = await wholeSegment(1, 2);
    expect(second.totals.scanned).toBe(whole.scanned);
    expect(second.totals.assessed).toBe(whole.assessed);
    expect(second.totals.invalid).toBe(whole.invalid);
    expect(watch.scanned).toHaveLength(whole.scanned);
    expect(new Set(watch.scanned).size).toBe(whole.scanned);
  });

  it('uses the Lambda context for the time left when no clock is injected', async () => {
    const watch = watched(users);
    const result = await scanSegmentHandler(
      { asOf: ASOF, segment: 0, totalSegments: 1 },
      { users: watch.repo, policy: DEFAULT_POLICY, recalls: recallSpy().trigger, logger, pageLimit: 10 },
      { getRemainingTimeInMillis: () => 5_000 },
    );
    expect(result.done).toBe(false);
    expect(watch.pages).toEqual([10]);
  });

  it('as the state machine loops it (each output is the next input), ends with every user once and every invalid record', async () => {
    const watch = watched(users);
    const deps = {
      users: watch.repo,
      policy: DEFAULT_POLICY,
      recalls: recallSpy().trigger,
      logger,
      pageLimit: 60,
      remainingMs: () => 0,
    };

    let state: unknown = { asOf: ASOF, segment: 0, totalSegments: 1 };
    let result: ScanSegmentResult;
    let invocations = 0;
    do {
      result = await scanSegmentHandler(state, deps);
      // Step Functions hands the whole Payload back in; nothing is trimmed on the way.
      state = JSON.parse(JSON.stringify(result));
      invocations++;
    } while (!result.done);

    expect(invocations).toBe(Math.ceil((COUNT + INVALID.length) / 60));
    expect(result.totals).toMatchObject({ scanned: COUNT + 2, assessed: COUNT, invalid: 2 });
    expect(new Set(watch.scanned).size).toBe(COUNT + 2);
    expect(watch.scanned).toHaveLength(COUNT + 2);
    // The digest is built from the segment's final result: it must still name both invalid records,
    // not only those found after the last hand-over.
    expect(result.invalidRecords.map((r) => r.userId).sort()).toEqual(['bad-balance', 'bad-channel']);
  });
});

/** The totals of a segment read in one go, to compare a handed-over run with. */
async function wholeSegment(segment: number, totalSegments: number) {
  const r = await scanSegmentHandler(
    { asOf: ASOF, segment, totalSegments },
    {
      users,
      policy: DEFAULT_POLICY,
      recalls: recallSpy().trigger,
      logger: spyLogger(),
      remainingMs: () => Number.POSITIVE_INFINITY,
    },
  );
  expect(r.done).toBe(true);
  return r.totals;
}

describe('scan event validation', () => {
  const deps = () => ({
    users,
    policy: DEFAULT_POLICY,
    recalls: recallSpy().trigger,
    logger: spyLogger(),
    remainingMs: () => 0,
  });

  it.each([
    ['a segment outside the run', { asOf: ASOF, segment: 4, totalSegments: 4 }, 'segment 4 is outside 0..3'],
    ['no asOf', { segment: 0, totalSegments: 4 }, 'asOf'],
    ['an asOf that is not a time', { asOf: 'yesterday', segment: 0, totalSegments: 4 }, 'asOf'],
    ['a negative segment', { asOf: ASOF, segment: -1, totalSegments: 4 }, 'segment'],
    ['no totalSegments', { asOf: ASOF, segment: 0 }, 'totalSegments'],
    ['a fractional segment', { asOf: ASOF, segment: 0.5, totalSegments: 4 }, 'segment'],
  ])('rejects %s, naming the field', async (_label, event, field) => {
    const watch = watched(users);
    const error = await scanSegmentHandler(event, { ...deps(), users: watch.repo }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidScanEventError);
    expect((error as Error).message).toContain(field);
    expect(watch.pages).toEqual([]);
  });

  it('rejects an event that is not an object', async () => {
    await expect(scanSegmentHandler(undefined, deps())).rejects.toBeInstanceOf(InvalidScanEventError);
  });
});

describe('forEachLimited', () => {
  it('stops taking items after the first failure and answers only when nothing is in flight', async () => {
    const { forEachLimited } = await import('../../functions/adapters/user-repository.ts');
    const started: number[] = [];
    let inFlight = 0;
    const run = forEachLimited([1, 2, 3, 4, 5, 6, 7, 8], 2, async (n) => {
      started.push(n);
      inFlight++;
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 20));
      inFlight--;
      if (n === 1) throw new Error('boom');
    });
    await expect(run).rejects.toThrow('boom');
    expect(inFlight).toBe(0);
    expect(started).toEqual([1, 2]);
  });
});
