import { type LakeWriter, scanPartName } from '../adapters/lake.ts';
import type { WinbackLogger } from '../adapters/logger.ts';
import {
  forEachLimited,
  type ScanCursor,
  type UserPage,
  type UserRepository,
} from '../adapters/user-repository.ts';
import { countAssessment, countRecallDecision, emptyTotals, type ScanTotals } from '../domain/analytics.ts';
import { type Assessment, assess } from '../domain/assessment.ts';
import { scanPageLimit } from '../domain/pacing.ts';
import type { Policy } from '../domain/policy.ts';
import { dayInZone, type SnapshotRow, snapshotRow } from '../domain/snapshot.ts';
import { needsRewrite } from '../domain/stored-assessment.ts';
import { type FieldIssue, parseUserRecord, type UserRecord } from '../domain/user.ts';

/**
 * What the scan does with each assessed user beyond recording it. The recall workflow plugs in
 * here; it answers with a decision label ("started", "cooldown", ...) that the run counts.
 */
export interface RecallTrigger {
  consider(user: UserRecord, assessment: Assessment, asOf: string): Promise<string>;
  /** Called once per page before `consider` runs for its users: a chance to read in bulk. */
  preparePage?(users: readonly [UserRecord, Assessment][], asOf: string): Promise<void>;
}

export const noRecalls: RecallTrigger = { consider: async () => 'not_started' };

export interface ScanSegmentInput {
  asOf: string;
  segment: number;
  totalSegments: number;
  cursor?: ScanCursor;
  totals?: ScanTotals;
  /** Carried across hand-overs so the run's report keeps the samples found before. */
  invalidRecords?: InvalidRecord[];
  /** Pages of this segment already read by earlier invocations: names the next page's lake part. */
  page?: number;
}

export interface InvalidRecord {
  userId: string;
  issues: FieldIssue[];
}

export interface ScanSegmentResult {
  asOf: string;
  segment: number;
  totalSegments: number;
  /** Present when the segment is not finished: the next invocation resumes here. */
  cursor?: ScanCursor;
  done: boolean;
  totals: ScanTotals;
  invalidRecords: InvalidRecord[];
  /** Pages of the segment read so far; the next invocation continues the numbering. */
  page?: number;
}

export interface ScanSegmentDeps {
  users: UserRepository;
  policy: Policy;
  recalls: RecallTrigger;
  logger: WinbackLogger;
  /** Time left before the function is stopped; the segment hands its cursor on before it runs out. */
  remainingMs: () => number;
  reserveMs?: number;
  writeConcurrency?: number;
  pageLimit?: number;
  onProgress?: (scannedSoFar: number) => void;
  /** Where each page's snapshot rows go (one part per segment and page); no history when absent. */
  lake?: LakeWriter;
}

const MAX_INVALID_SAMPLES = 20;

/**
 * Steps: read one page of the segment → validate each record (invalid ones are counted, logged
 * with key and field, and skipped) → assess → append the page's snapshot rows to the lake → write
 * the assessment back → offer the user to the recall trigger → next page, until the segment ends or the time budget says hand over.
 * Only one page is held at a time.
 */
export async function scanSegment(
  input: ScanSegmentInput,
  deps: ScanSegmentDeps,
): Promise<ScanSegmentResult> {
  const asOf = new Date(input.asOf);
  const asOfMs = asOf.getTime();
  // Totals handed over by an older version lack newer counters (failed): defaults fill them in.
  const totals: ScanTotals = { ...emptyTotals(), ...input.totals };
  const invalidRecords: InvalidRecord[] = [...(input.invalidRecords ?? [])];
  const reserve = deps.reserveMs ?? 30_000;
  let cursor = input.cursor;
  let pageNo = input.page ?? 0;
  const timeZone = deps.policy.scan.timeZone;
  const day = dayInZone(asOfMs, timeZone);

  const concurrency = deps.writeConcurrency ?? 32;
  // A page must finish before the function is stopped: its size follows the time left at the pace
  // of the pages before it (a small first page measures it), so a slow page is never cut off halfway.
  let msPerUser: number | undefined;
  const fetch = (from: ScanCursor | undefined) =>
    deps.users.scanPage(
      input.segment,
      input.totalSegments,
      from,
      scanPageLimit(deps.remainingMs() - reserve, msPerUser, deps.pageLimit),
    );
  do {
    const pageStartedWith = deps.remainingMs();
    const page: UserPage = await fetch(cursor);
    totals.scanned += page.items.length;
    // Validation and assessment are synchronous and cheap; only writes and recall starts wait on I/O.
    const changed: Assessment[] = [];
    const atRisk: [UserRecord, Assessment][] = [];
    const rows: SnapshotRow[] = [];
    for (const item of page.items) {
      const parsed = parseUserRecord(item);
      if (!parsed.ok) {
        totals.invalid++;
        const userId = typeof item.userId === 'string' ? item.userId : '(record without userId)';
        deps.logger.warn('invalid user record skipped', { userId, issues: parsed.issues });
        if (invalidRecords.length < MAX_INVALID_SAMPLES)
          invalidRecords.push({ userId, issues: parsed.issues });
        continue;
      }
      const assessment = assess(parsed.value, deps.policy, asOf);
      countAssessment(totals, assessment, parsed.value.channel);
      if (deps.lake) rows.push(snapshotRow(parsed.value, assessment, asOfMs, timeZone));
      if (needsRewrite(parsed.value.assessment, assessment, asOfMs, deps.policy)) changed.push(assessment);
      if (assessment.status !== 'active') atRisk.push([parsed.value, assessment]);
    }
    cursor = page.cursor;
    // Before anything else is written: a failed lake write fails the page, and the retry starts from
    // the same cursor and page number, so it overwrites this part rather than adding to it.
    await deps.lake?.writePart('snapshots', day, scanPartName(input.segment, pageNo), rows);
    pageNo++;
    await forEachLimited(changed, concurrency, async (assessment) => {
      // One user's failed write (deleted since the page was read, an item over 400 KB) is counted and
      // logged by key; the rest of the page and the segment go on, and tomorrow's scan tries again.
      try {
        await deps.users.recordAssessment(assessment, input.asOf);
        totals.written++;
      } catch (error) {
        totals.failed++;
        deps.logger.error('user not scanned', { userId: assessment.userId, error: (error as Error).name });
      }
    });
    await deps.recalls.preparePage?.(atRisk, input.asOf);
    await forEachLimited(atRisk, concurrency, async ([user, assessment]) => {
      // One user's failed recall start must not cost the rest of the page theirs; it is counted,
      // logged, and tomorrow's scan tries that user again.
      let decision: string;
      try {
        decision = await deps.recalls.consider(user, assessment, input.asOf);
      } catch (error) {
        decision = 'error';
        deps.logger.error('could not start a recall', { userId: user.userId, error: (error as Error).name });
      }
      countRecallDecision(totals, decision);
    });
    deps.onProgress?.(page.items.length);
    const spent = pageStartedWith - deps.remainingMs();
    if (page.items.length > 0 && Number.isFinite(spent))
      msPerUser = Math.max(spent / page.items.length, 0.01);
  } while (cursor && deps.remainingMs() > reserve);

  return {
    asOf: input.asOf,
    segment: input.segment,
    totalSegments: input.totalSegments,
    ...(cursor ? { cursor } : {}),
    done: cursor === undefined,
    totals,
    invalidRecords,
    page: pageNo,
  };
}
