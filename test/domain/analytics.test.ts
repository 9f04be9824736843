import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countAssessment,
  countRecallDecision,
  emptyTotals,
  formatTotals,
  mergeTotals,
  type ScanTotals,
  type StatusTally,
} from '../../functions/domain/analytics.ts';
import type { Assessment } from '../../functions/domain/assessment.ts';
import {
  ASSESSMENT_STATUSES,
  type AssessmentStatus,
  LIFECYCLE_STAGES,
  type LifecycleStage,
  RISK_LEVELS,
  type RiskLevel,
} from '../../functions/domain/user.ts';

function verdict(status: AssessmentStatus, level: RiskLevel, lifecycle: LifecycleStage): Assessment {
  return {
    userId: 'u',
    status,
    level,
    score: 0,
    lifecycle,
    reasons: [],
    plan: { channels: [], strategies: [] },
  };
}

/** Six users: two of each status, over three stages and two channels. */
function sixUsers(): ScanTotals {
  const totals = emptyTotals();
  countAssessment(totals, verdict('active', 'none', 'novice'), 'organic');
  countAssessment(totals, verdict('churned', 'high', 'novice'), 'ads');
  countAssessment(totals, verdict('at_risk', 'low', 'growth'), 'ads');
  countAssessment(totals, verdict('at_risk', 'medium', 'growth'), 'organic');
  countAssessment(totals, verdict('churned', 'medium', 'growth'), 'ads');
  countAssessment(totals, verdict('active', 'none', 'mature'), 'organic');
  totals.scanned = 7;
  totals.invalid = 1;
  totals.written = 4;
  countRecallDecision(totals, 'started');
  countRecallDecision(totals, 'started');
  countRecallDecision(totals, 'cooldown');
  return totals;
}

const tally = (active: number, at_risk: number, churned: number): StatusTally => ({
  active,
  at_risk,
  churned,
});

describe('countAssessment', () => {
  it('tallies status, level, stage × status and channel × status', () => {
    expect(sixUsers()).toEqual({
      scanned: 7,
      assessed: 6,
      written: 4,
      invalid: 1,
      failed: 0,
      byStatus: tally(2, 2, 2),
      byLevel: { none: 2, low: 1, medium: 2, high: 1 },
      byLifecycle: { novice: tally(1, 0, 1), growth: tally(0, 2, 1), mature: tally(1, 0, 0) },
      byChannel: { ads: tally(0, 1, 2), organic: tally(2, 1, 0) },
      recalls: { started: 2, cooldown: 1 },
    });
  });

  it('does not count scanned or written: the scan does', () => {
    const totals = emptyTotals();
    countAssessment(totals, verdict('active', 'none', 'mature'), 'invite');
    expect([totals.scanned, totals.assessed, totals.written]).toEqual([0, 1, 0]);
  });

  describe('with channel names that are also Object.prototype members', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    afterEach(() => {
      // Undo any pollution so that a failure here cannot leak into other tests.
      for (const target of [
        Object.prototype,
        Object,
        Object.prototype.toString,
        Object.prototype.hasOwnProperty,
      ])
        for (const s of ASSESSMENT_STATUSES) delete (target as unknown as Record<string, unknown>)[s];
    });

    it('counts them as ordinary channels and pollutes nothing', () => {
      const totals = emptyTotals();
      for (const name of names) countAssessment(totals, verdict('at_risk', 'low', 'novice'), name);
      const polluted = ({} as Record<string, unknown>).at_risk;
      expect(polluted).toBeUndefined();
      expect(Object.entries(totals.byChannel).sort(([a], [b]) => a.localeCompare(b))).toEqual(
        [...names].sort((a, b) => a.localeCompare(b)).map((n) => [n, tally(0, 1, 0)]),
      );
    });

    it('keeps counting them into totals that came through JSON (the next page of a segment)', () => {
      // Step Functions hands a segment's running totals to its next page as JSON: plain objects again.
      const totals = JSON.parse(JSON.stringify(emptyTotals())) as ScanTotals;
      for (const name of names) countAssessment(totals, verdict('churned', 'high', 'novice'), name);
      countAssessment(totals, verdict('active', 'none', 'novice'), '__proto__');
      const roundTripped = JSON.parse(JSON.stringify(totals)) as ScanTotals;
      expect(Object.keys(roundTripped.byChannel).sort()).toEqual([...names].sort());
      expect(Object.getOwnPropertyDescriptor(roundTripped.byChannel, '__proto__')?.value).toEqual(
        tally(1, 0, 1),
      );
      expect(({} as Record<string, unknown>).churned).toBeUndefined();
    });

    it('merges them from segment totals that came through JSON', () => {
      const part = JSON.parse(
        JSON.stringify({ ...emptyTotals(), assessed: 1, byStatus: tally(1, 0, 0) }).replace(
          '"byChannel":{}',
          '"byChannel":{"__proto__":{"active":1,"at_risk":0,"churned":0}}',
        ),
      ) as ScanTotals;
      const merged = mergeTotals([part, part]);
      expect(({} as Record<string, unknown>).active).toBeUndefined();
      expect(Object.entries(merged.byChannel)).toEqual([['__proto__', tally(2, 0, 0)]]);
    });
  });
});

const CHANNELS = ['ads', 'distribution', 'finance_supermarket', 'invite', 'organic', 'partner-x'];
const n = fc.nat({ max: 10_000 });
const tallyArb: fc.Arbitrary<StatusTally> = fc.record({ active: n, at_risk: n, churned: n });
const totalsArb: fc.Arbitrary<ScanTotals> = fc.record({
  scanned: n,
  assessed: n,
  written: n,
  invalid: n,
  failed: n,
  byStatus: tallyArb,
  byLevel: fc.record({ none: n, low: n, medium: n, high: n }),
  byLifecycle: fc.record({ novice: tallyArb, growth: tallyArb, mature: tallyArb }),
  byChannel: fc.dictionary(fc.constantFrom(...CHANNELS), tallyArb),
  recalls: fc.dictionary(fc.constantFrom('started', 'cooldown', 'already_active', 'holdout'), n),
});

describe('mergeTotals', () => {
  it('gives the same totals whatever order the segments finish in', () => {
    const partsAndPermutation = fc
      .array(totalsArb, { maxLength: 8 })
      .chain((parts) =>
        fc.tuple(
          fc.constant(parts),
          fc.shuffledSubarray(parts, { minLength: parts.length, maxLength: parts.length }),
        ),
      );
    fc.assert(
      fc.property(partsAndPermutation, ([parts, shuffled]) => {
        expect(mergeTotals(shuffled)).toEqual(mergeTotals(parts));
      }),
    );
  });

  it('is a fold: merging merged groups equals merging everything at once', () => {
    fc.assert(
      fc.property(fc.array(totalsArb, { maxLength: 8 }), fc.nat(), (parts, cut) => {
        const at = parts.length === 0 ? 0 : cut % (parts.length + 1);
        const grouped = mergeTotals([mergeTotals(parts.slice(0, at)), mergeTotals(parts.slice(at))]);
        expect(grouped).toEqual(mergeTotals(parts));
      }),
    );
  });

  it('adds every count and leaves its inputs alone', () => {
    fc.assert(
      fc.property(totalsArb, totalsArb, (a, b) => {
        const before = structuredClone([a, b]);
        const m = mergeTotals([a, b]);
        expect([a, b]).toEqual(before);
        expect(m.assessed).toBe(a.assessed + b.assessed);
        for (const s of ASSESSMENT_STATUSES) expect(m.byStatus[s]).toBe(a.byStatus[s] + b.byStatus[s]);
        for (const l of RISK_LEVELS) expect(m.byLevel[l]).toBe(a.byLevel[l] + b.byLevel[l]);
        for (const stage of LIFECYCLE_STAGES)
          expect(m.byLifecycle[stage].churned).toBe(
            a.byLifecycle[stage].churned + b.byLifecycle[stage].churned,
          );
        for (const c of CHANNELS) {
          const sum = (a.byChannel[c]?.at_risk ?? 0) + (b.byChannel[c]?.at_risk ?? 0);
          expect(m.byChannel[c]?.at_risk ?? 0).toBe(sum);
        }
      }),
    );
  });

  it('is empty for no segments and the identity for one', () => {
    expect(mergeTotals([])).toEqual(emptyTotals());
    expect(mergeTotals([sixUsers()])).toEqual(sixUsers());
  });

  it('reads a segment written before `written` existed as 0 written', () => {
    const { written: _old, ...legacy } = sixUsers();
    expect(mergeTotals([legacy as ScanTotals, sixUsers()]).written).toBe(4);
  });
});

describe('formatTotals', () => {
  const text = formatTotals(sixUsers(), 'winback daily assessment, as of 2026-11-24T01:00:00.000Z');
  const lines = text.split('\n');

  it('starts with the title and the run counts', () => {
    expect(lines.slice(0, 4)).toEqual([
      'winback daily assessment, as of 2026-11-24T01:00:00.000Z',
      '',
      'users scanned 7, assessed 6 (4 changed and written back), invalid records 1',
      'risk level: high 1, medium 2, low 1, none 2',
    ]);
  });

  it('prints a row per stage and per channel with the churn share', () => {
    expect(lines).toContain('                            users     active    at risk    churned    churn %');
    expect(lines).toContain('all users                       6          2          2          2      33.3%');
    expect(lines).toContain('  novice                        2          1          0          1      50.0%');
    expect(lines).toContain('  growth                        3          0          2          1      33.3%');
    expect(lines).toContain('  mature                        1          1          0          0       0.0%');
    expect(lines).toContain('  ads                           3          0          1          2      66.7%');
    expect(lines).toContain('  organic                       3          2          1          0       0.0%');
  });

  it('orders the sections: stages, then channels alphabetically, then recall decisions', () => {
    const at = (line: string) => lines.findIndex((l) => l.startsWith(line));
    expect(at('by lifecycle stage')).toBeLessThan(at('  novice'));
    expect(at('  novice')).toBeLessThan(at('  growth'));
    expect(at('  growth')).toBeLessThan(at('  mature'));
    expect(at('  mature')).toBeLessThan(at('by acquisition channel'));
    expect(at('by acquisition channel')).toBeLessThan(at('  ads'));
    expect(at('  ads')).toBeLessThan(at('  organic'));
    expect(lines.at(-1)).toBe('recalls: cooldown 1, started 2');
  });

  it('shows 0.0% for empty rows and leaves out the recalls line when there were none', () => {
    const empty = formatTotals(emptyTotals(), 'empty').split('\n');
    expect(empty).toContain('  novice                        0          0          0          0       0.0%');
    expect(empty.at(-1)).toBe('by acquisition channel');
  });
});
