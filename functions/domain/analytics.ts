import type { Assessment } from './assessment.ts';
import {
  ASSESSMENT_STATUSES,
  type AssessmentStatus,
  LIFECYCLE_STAGES,
  type LifecycleStage,
  RISK_LEVELS,
  type RiskLevel,
} from './user.ts';

export type StatusTally = Record<AssessmentStatus, number>;

/** Counts of one scan run: the churn structure by stage and channel that operators read each morning. */
export interface ScanTotals {
  scanned: number;
  assessed: number;
  /** Assessments written back; the rest said the same as the stored one. */
  written: number;
  invalid: number;
  /** Users whose write failed (deleted mid-scan, an item over the size limit, ...): logged by key. */
  failed: number;
  byStatus: StatusTally;
  byLevel: Record<RiskLevel, number>;
  byLifecycle: Record<LifecycleStage, StatusTally>;
  byChannel: Record<string, StatusTally>;
  recalls: Record<string, number>;
}

function emptyTally(): StatusTally {
  return { active: 0, at_risk: 0, churned: 0 };
}

export function emptyTotals(): ScanTotals {
  return {
    scanned: 0,
    assessed: 0,
    written: 0,
    invalid: 0,
    failed: 0,
    byStatus: emptyTally(),
    byLevel: { none: 0, low: 0, medium: 0, high: 0 },
    byLifecycle: { novice: emptyTally(), growth: emptyTally(), mature: emptyTally() },
    // Channel names and decision labels come from data: no prototype, so "constructor" or
    // "__proto__" are ordinary keys rather than inherited members.
    byChannel: Object.create(null) as Record<string, StatusTally>,
    recalls: Object.create(null) as Record<string, number>,
  };
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Totals that came through JSON are plain objects again: define keys so "__proto__" stays a key. */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

export function countAssessment(totals: ScanTotals, assessment: Assessment, channel: string): void {
  totals.assessed++;
  totals.byStatus[assessment.status]++;
  totals.byLevel[assessment.level]++;
  totals.byLifecycle[assessment.lifecycle][assessment.status]++;
  let tally = own(totals.byChannel, channel);
  if (!tally) {
    tally = emptyTally();
    Object.defineProperty(totals.byChannel, channel, {
      value: tally,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  tally[assessment.status]++;
}

export function countRecallDecision(totals: ScanTotals, decision: string): void {
  setOwn(totals.recalls, decision, (own(totals.recalls, decision) ?? 0) + 1);
}

function addTally(into: StatusTally, from: StatusTally): void {
  for (const s of ASSESSMENT_STATUSES) into[s] += from[s] ?? 0;
}

/** Adds totals of segments together; a pure fold, so the order segments finish in does not matter. */
export function mergeTotals(parts: readonly ScanTotals[]): ScanTotals {
  const out = emptyTotals();
  for (const part of parts) {
    out.scanned += part.scanned;
    out.assessed += part.assessed;
    out.written += part.written ?? 0;
    out.invalid += part.invalid;
    out.failed += part.failed ?? 0;
    addTally(out.byStatus, part.byStatus);
    for (const l of RISK_LEVELS) out.byLevel[l] += part.byLevel[l] ?? 0;
    for (const stage of LIFECYCLE_STAGES) addTally(out.byLifecycle[stage], part.byLifecycle[stage]);
    for (const [channel, tally] of Object.entries(part.byChannel)) {
      const into = own(out.byChannel, channel) ?? emptyTally();
      addTally(into, tally);
      setOwn(out.byChannel, channel, into);
    }
    for (const [decision, n] of Object.entries(part.recalls)) {
      setOwn(out.recalls, decision, (own(out.recalls, decision) ?? 0) + n);
    }
  }
  return out;
}

function share(part: number, whole: number): string {
  return whole === 0 ? '0.0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** A plain-text table of the run for a terminal or an operator e-mail digest. */
export function formatTotals(totals: ScanTotals, title: string): string {
  const widths = [22, 9, 9, 9, 9, 9];
  const header = row(['', 'users', 'active', 'at risk', 'churned', 'churn %'], widths);
  const line = (label: string, t: StatusTally) => {
    const n = t.active + t.at_risk + t.churned;
    return row(
      [label, String(n), String(t.active), String(t.at_risk), String(t.churned), share(t.churned, n)],
      widths,
    );
  };
  const out: string[] = [title, ''];
  out.push(
    `users scanned ${totals.scanned}, assessed ${totals.assessed} (${totals.written} changed and written back), invalid records ${totals.invalid}${totals.failed ? `, users not scanned ${totals.failed}` : ''}`,
    `risk level: high ${totals.byLevel.high}, medium ${totals.byLevel.medium}, low ${totals.byLevel.low}, none ${totals.byLevel.none}`,
    '',
    header,
    line('all users', totals.byStatus),
    '',
    row(['by lifecycle stage', '', '', '', '', ''], widths).trimEnd(),
  );
  for (const stage of LIFECYCLE_STAGES) out.push(line(`  ${stage}`, totals.byLifecycle[stage]));
  out.push('', 'by acquisition channel');
  const channels = Object.entries(totals.byChannel).sort(([a], [b]) => a.localeCompare(b));
  for (const [channel, tally] of channels) out.push(line(`  ${channel}`, tally));
  const recalls = Object.entries(totals.recalls).sort(([a], [b]) => a.localeCompare(b));
  if (recalls.length > 0) out.push('', `recalls: ${recalls.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return out.join('\n');
}
