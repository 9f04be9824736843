import type { Assessment } from './assessment.ts';
import type { Policy } from './policy.ts';
import { MS_PER_DAY } from './time.ts';
import type { StoredAssessment } from './user.ts';

/**
 * Whether the scan must write this assessment back. It writes whenever the verdict changes
 * (status, level, stage, reason codes, or the score by the tolerance or more) and otherwise
 * refreshes it once it is `refreshDays` old, so the stored figures are never older than that.
 */
export function needsRewrite(
  stored: StoredAssessment | undefined,
  next: Assessment,
  asOfMs: number,
  policy: Policy,
): boolean {
  if (!stored) return true;
  if (stored.status !== next.status || stored.level !== next.level || stored.lifecycle !== next.lifecycle)
    return true;
  if (
    Math.abs(stored.score - next.score) >= policy.storedAssessment.scoreTolerance &&
    policy.storedAssessment.scoreTolerance > 0
  )
    return true;
  if (policy.storedAssessment.scoreTolerance === 0 && stored.score !== next.score) return true;
  if (stored.reasons.length !== next.reasons.length) return true;
  for (let i = 0; i < next.reasons.length; i++)
    if (stored.reasons[i]!.code !== next.reasons[i]!.code) return true;
  return asOfMs - Date.parse(stored.assessedAt) >= policy.storedAssessment.refreshDays * MS_PER_DAY;
}
