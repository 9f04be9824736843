import { forEachLimited } from '../adapters/user-repository.ts';
import type { ActivityEventInput } from '../domain/api-schemas.ts';
import { type ActivityDeps, type ActivityResult, recordActivity } from './record-activity.ts';

const IN_FLIGHT = 8;

/**
 * Applies a validated batch through recordActivity, a few events at a time, and answers per event in
 * the order sent. Every update is conditional or additive, so the order of application does not
 * matter; an error fails the request, and the sender's retry is safe because each event id applies once.
 */
export async function recordEvents(
  events: readonly ActivityEventInput[],
  deps: ActivityDeps,
): Promise<{ results: ActivityResult[] }> {
  const results = new Array<ActivityResult>(events.length);
  const indexed = events.map((event, index) => ({ event, index }));
  await forEachLimited(indexed, IN_FLIGHT, async ({ event, index }) => {
    results[index] = await recordActivity(event, deps);
  });
  return { results };
}
