import type { ScanTotals } from './analytics.ts';
import type { UpliftRow } from './effectiveness.ts';
import { ASSESSMENT_STATUSES, RISK_LEVELS } from './user.ts';

/**
 * The figures operators watch in CloudWatch, derived from what each step returned. Handlers publish
 * these points as EMF; the dashboard and alarms name the same constants, so neither side drifts.
 */
export const METRIC_NAMESPACE = 'Winback';
/** Powertools adds a `service` dimension to every metric; the dashboard must ask for the same value. */
export const METRIC_SERVICE = 'winback';

export const METRIC = {
  /** Per scan, dimension `status`: users assessed active / at_risk / churned. */
  usersByStatus: 'UsersByStatus',
  /** Per scan, dimension `level`: users at risk level none / low / medium / high. */
  usersByLevel: 'UsersByLevel',
  usersAssessed: 'UsersAssessed',
  invalidRecords: 'InvalidRecords',
  /** From the execution's start to the summary: the whole scan, every segment included. */
  scanDuration: 'ScanDuration',
  scanUsersPerSecond: 'ScanUsersPerSecond',
  /** Dimension `trigger`: one per recall execution that got past Prepare. */
  recallsStarted: 'RecallsStarted',
  holdoutDraws: 'HoldoutDraws',
  /** Dimension `outcome`. */
  recallsClosed: 'RecallsClosed',
  /** Dimension `channel`. */
  messagesSent: 'MessagesSent',
  /** Dimension `reason`: `quiet_hours` or `frequency_cap`. */
  sendsHeld: 'SendsHeld',
  /** Dimension `channel`: each delivery attempt the provider refused or that failed outright. */
  deliveryFailures: 'DeliveryFailures',
  eventsApplied: 'EventsApplied',
  eventsDuplicate: 'EventsDuplicate',
  /** Events naming an unknown user or message; a malformed batch is an API 4xx instead. */
  eventsRejected: 'EventsRejected',
  /**
   * From the report's uplift by strategy: how many strategies, with enough sample, have a 95% interval
   * entirely below zero (the recall does worse than doing nothing). Alarmed on at 1 or more.
   */
  strategiesWithNegativeUplift: 'StrategiesWithNegativeUplift',
  /** Dimension `strategy`: the upper end of the strategy's uplift interval, in points. */
  strategyUpliftCiHigh: 'StrategyUpliftCiHigh',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type MetricUnitName = 'Count' | 'Seconds' | 'Count/Second' | 'None';

export interface MetricPoint {
  name: MetricName;
  unit: MetricUnitName;
  value: number;
  /** One dimension at most besides `service`, so every point is one line on a dashboard. */
  dimension?: { name: string; value: string };
}

const count = (name: MetricName, value: number, dimension?: MetricPoint['dimension']): MetricPoint => ({
  name,
  unit: 'Count',
  value,
  ...(dimension ? { dimension } : {}),
});

/** One scan run: users by status and level (zeros included, so graphs do not gap), its duration and speed. */
export function scanMetrics(totals: ScanTotals, startedAt: string, finishedAt: string): MetricPoint[] {
  const seconds = Math.max(0, (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000);
  const points: MetricPoint[] = [
    ...ASSESSMENT_STATUSES.map((s) =>
      count(METRIC.usersByStatus, totals.byStatus[s], { name: 'status', value: s }),
    ),
    ...RISK_LEVELS.map((l) => count(METRIC.usersByLevel, totals.byLevel[l], { name: 'level', value: l })),
    count(METRIC.usersAssessed, totals.assessed),
    count(METRIC.invalidRecords, totals.invalid),
  ];
  if (Number.isFinite(seconds)) {
    points.push({ name: METRIC.scanDuration, unit: 'Seconds', value: seconds });
    if (seconds > 0)
      points.push({
        name: METRIC.scanUsersPerSecond,
        unit: 'Count/Second',
        value: Math.round((totals.scanned / seconds) * 100) / 100,
      });
  }
  return points;
}

/** A recall execution passed Prepare: started (by trigger), and drawn into the holdout or not. */
export function recallStartMetrics(trigger: string, holdout: boolean): MetricPoint[] {
  const points = [count(METRIC.recallsStarted, 1, { name: 'trigger', value: trigger })];
  if (holdout) points.push(count(METRIC.holdoutDraws, 1));
  return points;
}

export function recallCloseMetrics(outcome: string): MetricPoint[] {
  return [count(METRIC.recallsClosed, 1, { name: 'outcome', value: outcome })];
}

/**
 * One send step's result. A step answered from the ledger (already sent by an earlier attempt) carries
 * that attempt's time, before this invocation began: it is not counted again.
 */
export function sendMetrics(
  result: { channel: string; result: string; at: string },
  invokedAt: string,
): MetricPoint[] {
  if (result.result === 'sent') {
    if (Date.parse(result.at) < Date.parse(invokedAt)) return [];
    return [count(METRIC.messagesSent, 1, { name: 'channel', value: result.channel })];
  }
  if (result.result === 'deferred')
    return [count(METRIC.sendsHeld, 1, { name: 'reason', value: 'quiet_hours' })];
  if (result.result === 'frequency_capped')
    return [count(METRIC.sendsHeld, 1, { name: 'reason', value: 'frequency_cap' })];
  if (result.result === 'invalid_address') return deliveryFailureMetrics(result.channel);
  return [];
}

export function deliveryFailureMetrics(channel: string): MetricPoint[] {
  return [count(METRIC.deliveryFailures, 1, { name: 'channel', value: channel })];
}

/** A batch of activity events: how many applied, were repeats, or named an unknown user or message. */
export function eventMetrics(results: readonly { status: string }[]): MetricPoint[] {
  let applied = 0;
  let duplicate = 0;
  let rejected = 0;
  for (const r of results) {
    if (r.status === 'applied') applied++;
    else if (r.status === 'duplicate') duplicate++;
    else rejected++;
  }
  return [
    count(METRIC.eventsApplied, applied),
    count(METRIC.eventsDuplicate, duplicate),
    count(METRIC.eventsRejected, rejected),
  ];
}

/**
 * From the report's uplift by strategy: the count the return-rate-drop alarm watches, and each measured
 * strategy's interval top for the dashboard. Strategies under the minimum sample have no interval and
 * are neither counted nor published.
 */
export function upliftMetrics(byStrategy: readonly UpliftRow[]): MetricPoint[] {
  const measured = byStrategy.filter((r) => r.ci95 !== null);
  return [
    count(METRIC.strategiesWithNegativeUplift, measured.filter((r) => r.ci95!.high < 0).length),
    ...measured.map(
      (r): MetricPoint => ({
        name: METRIC.strategyUpliftCiHigh,
        unit: 'None',
        value: r.ci95!.high,
        dimension: { name: 'strategy', value: r.key },
      }),
    ),
  ];
}
