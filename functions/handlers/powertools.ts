import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { createLogger } from '../adapters/logger.ts';
import {
  METRIC_NAMESPACE,
  METRIC_SERVICE,
  type MetricPoint,
  type MetricUnitName,
} from '../domain/metrics.ts';

/**
 * The one place that builds a Lambda's logger and metrics and puts them in its middy chain, as the
 * Powertools example app does: every handler logs with its invocation context and flushes its
 * metrics as one EMF line per dimension at the end of the invocation, also when it throws.
 */
export interface Powertools {
  logger: Logger;
  metrics: Metrics;
}

const UNIT = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  'Count/Second': MetricUnit.CountPerSecond,
  None: MetricUnit.NoUnit,
} as const satisfies Record<MetricUnitName, string>;

const EMPTY_FLUSH = 'No application metrics to publish';

export function powertools(loggerService: string): Powertools {
  const logger = createLogger(loggerService);
  const metrics = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName: METRIC_SERVICE,
    // An invocation that counted nothing (a check that found nobody back) is normal, not a warning
    // worth a log line on every call; every other warning of the metrics library goes to the logger.
    logger: {
      debug: (...a: unknown[]) => logger.debug(String(a[0])),
      info: (...a: unknown[]) => logger.info(String(a[0])),
      warn: (...a: unknown[]) => {
        if (!String(a[0]).startsWith(EMPTY_FLUSH)) logger.warn(String(a[0]));
      },
      error: (...a: unknown[]) => logger.error(String(a[0])),
    },
  });
  return { logger, metrics };
}

/** A middy chain with the Lambda context in every log line and the metrics flushed after each call. */
export function observed<TEvent, TResult>({ logger, metrics }: Powertools) {
  return middy<TEvent, TResult>().use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/**
 * Undimensioned points go out with the invocation's flush; a point with a dimension is its own EMF
 * line, since one EMF record gives every metric in it the same dimensions.
 */
export function publish(metrics: Metrics, points: readonly MetricPoint[]): void {
  for (const p of points) {
    const unit = UNIT[p.unit];
    if (!p.dimension) {
      metrics.addMetric(p.name, unit, p.value);
      continue;
    }
    const single = metrics.singleMetric();
    single.addDimension(p.dimension.name, p.dimension.value);
    single.addMetric(p.name, unit, p.value);
  }
}
