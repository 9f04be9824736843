import { describe, expect, it } from 'vitest';
import { recordActivity } from '../../functions/use-cases/record-activity.ts';
import { AS_OF, aUser, daysBefore } from '../support/fixtures.ts';
import { putUsers, readUser, useTestRuntime } from '../support/runtime.ts';

// Case 2: an event delivered at least once is applied exactly once, whatever fails in between.

const crash = () => Object.assign(new Error('Runtime exited'), { name: 'Runtime.ExitError' });

/** A crashed attempt runs no cleanup: whatever undo the activity log offers (if any) fails too. */
function noCleanup(log: object): () => void {
  const target = log as { release?: unknown };
  const had = Object.hasOwn(target, 'release');
  const own = target.release;
  target.release = async () => {
    throw crash();
  };
  return () => {
    if (had) target.release = own;
    else delete target.release;
  };
}

describe('an activity event whose first attempt crashed part-way', () => {
  const env = useTestRuntime();

  it('is applied by the retry (a login)', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'e-login', lastLoginAt: daysBefore(AS_OF, 20) }));
    const deps = rt.activityDeps;
    const advance = deps.users.advanceTime.bind(deps.users);
    const restore = noCleanup(deps.events);
    // The process dies after the first write of the attempt: nothing after it runs, not even a cleanup.
    deps.users.advanceTime = async () => {
      throw crash();
    };
    const event = {
      eventId: 'login-crash-1',
      userId: 'e-login',
      type: 'login' as const,
      at: AS_OF.toISOString(),
    };
    await expect(recordActivity(event, deps)).rejects.toBeDefined();
    deps.users.advanceTime = advance;
    restore();

    const retried = await recordActivity(event, deps);
    expect(retried.status).toBe('applied');
    expect((await readUser(rt, 'e-login')).lastLoginAt).toBe(AS_OF.toISOString());
    expect((await recordActivity(event, deps)).status).toBe('duplicate');
  });

  it('is counted once by the retry (an investment)', async () => {
    const { rt } = env;
    await putUsers(rt, aUser({ userId: 'e-invest', investCount: 3, totalInvestedFen: 300_000 }));
    const deps = rt.activityDeps;
    const add = deps.users.addInvestment.bind(deps.users);
    const restore = noCleanup(deps.events);
    deps.users.addInvestment = async () => {
      throw crash();
    };
    const event = {
      eventId: 'inv-crash-1',
      userId: 'e-invest',
      type: 'investment' as const,
      at: AS_OF.toISOString(),
      amountFen: 50_000,
      productId: 'p1',
      bonusRate: false,
    };
    await expect(recordActivity(event, deps)).rejects.toBeDefined();
    deps.users.addInvestment = add;
    restore();

    expect((await recordActivity(event, deps)).status).toBe('applied');
    expect((await recordActivity(event, deps)).status).toBe('duplicate');
    const user = await readUser(rt, 'e-invest');
    expect(user.investCount).toBe(4);
    expect(user.totalInvestedFen).toBe(350_000);
  });
});
