import { forEachLimited } from '../adapters/user-repository.ts';
import type { ActivityEventInput } from '../domain/api-schemas.ts';
import { timesTooFarAhead } from '../domain/time.ts';
import { InvalidRequestError } from './api-errors.ts';
import { type ActivityDeps, type ActivityResult, recordActivity } from './record-activity.ts';

const IN_FLIGHT = 8;

/**
 * Applies a validated batch through recordActivity, a few events at a time, and answers per event in
 * the order sent. A time further ahead of the server's clock than the policy allows refuses the request. Every update is conditional or additive, so the order of application does not
 * matter; an error fails the request, and the sender's retry is safe because each event id applies once.
 */
export async function recordEvents(
  events: readonly ActivityEventInput[],
  deps: ActivityDeps,
): Promise<{ results: ActivityResult[] }> {
  const now = deps.now();
  const skew = deps.policy.input.futureSkewMinutes;
  const ahead = events.flatMap((e, i) =>
    timesTooFarAhead({ [`events.${i}.at`]: e.at }, now, skew).map((field) => ({
      in: 'body' as const,
      field,
      message: `must not be more than ${skew} minutes after the server's time`,
    })),
  );
  const maxFen = deps.policy.input.maxInvestFen;
  const tooLarge = events.flatMap((e, i) =>
    e.type === 'investment' && e.amountFen > maxFen
      ? [{ in: 'body' as const, field: `events.${i}.amountFen`, message: `must be at most ${maxFen} fen` }]
      : [],
  );
  if (ahead.length + tooLarge.length > 0) throw new InvalidRequestError([...ahead, ...tooLarge]);
  const results = new Array<ActivityResult>(events.length);
  const indexed = events.map((event, index) => ({ event, index }));
  await forEachLimited(indexed, IN_FLIGHT, async ({ event, index }) => {
    results[index] = await recordActivity(event, deps);
  });
  return { results };
}
