import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dayNumberOf } from '../../functions/domain/report.ts';
import type { FeedbackRow, SnapshotRow } from '../../functions/domain/snapshot.ts';

// Rows in exactly the lake contract's shape: the types the writers use.
export type { FeedbackRow, SnapshotRow } from '../../functions/domain/snapshot.ts';

/** A snapshot with plain defaults; a test states only what its expected figures depend on. */
export function snapshot(day: string, userId: string, overrides: Partial<SnapshotRow> = {}): SnapshotRow {
  const status = overrides.status ?? 'active';
  return {
    day,
    dayNumber: dayNumberOf(day),
    userId,
    status,
    level: status === 'active' ? 'none' : 'low',
    score: 10,
    lifecycle: 'growth',
    channel: 'organic',
    reasonCodes: [],
    registeredMonth: '2026-01',
    investCount: 3,
    maxInvestFen: 2_000_000,
    totalInvestedFen: 5_000_000,
    balanceFen: 500_000,
    heldBonusProduct: false,
    daysSinceLogin: 3,
    daysSinceInvest: 10,
    churnReason: null,
    ...overrides,
  };
}

export function feedbackRow(at: string, userId: string, churnReason: string, issues: string[]): FeedbackRow {
  const day = at.slice(0, 10);
  return { day, dayNumber: dayNumberOf(day), userId, feedbackId: `${userId}-${at}`, churnReason, issues, at };
}

/** Writes rows as the lake does: gzip JSON lines under `<table>/day=YYYY-MM-DD/<part>.jsonl.gz`. */
export function writeLake(
  root: string,
  tables: { snapshots?: object[]; feedback?: object[]; recalls?: object[] },
  part = 'seg-00-page-0000',
): void {
  for (const [table, rows] of Object.entries(tables)) {
    const byDay = new Map<string, object[]>();
    for (const row of rows as { day: string }[]) byDay.set(row.day, [...(byDay.get(row.day) ?? []), row]);
    for (const [day, dayRows] of byDay) {
      const dir = join(root, table, `day=${day}`);
      mkdirSync(dir, { recursive: true });
      const text = dayRows.map((r) => JSON.stringify(r)).join('\n');
      writeFileSync(join(dir, `${part}.jsonl.gz`), gzipSync(`${text}\n`));
    }
  }
}
