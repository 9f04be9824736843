import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecallChannel } from '../../functions/domain/assessment.ts';
import {
  type AllowedHours,
  DEFAULT_SEND_RATE_PER_SECOND,
  epochSecond,
  firstAllowedSecond,
  SlotBook,
  scanPageLimit,
  searchSendSecond,
} from '../../functions/domain/pacing.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../functions/domain/policy.ts';
import { isQuietTime } from '../../functions/domain/time.ts';

const QUIET = { start: '21:00', end: '08:00' };
const SHANGHAI: AllowedHours = { timeZone: 'Asia/Shanghai', quiet: QUIET };
/** 2026-11-26 09:00:00 in Shanghai. */
const NINE_AM = Date.parse('2026-11-26T01:00:00Z');
const sec = (iso: string) => epochSecond(iso);

describe('the send rate policy', () => {
  it('defaults to 10 SMS, 100 push and 200 in-app sends per second', () => {
    expect(DEFAULT_POLICY.recall.sendRatePerSecond).toEqual({ sms: 10, push: 100, in_app: 200 });
    expect(DEFAULT_SEND_RATE_PER_SECOND).toEqual({ sms: 10, push: 100, in_app: 200 });
  });

  it('takes an override per channel and refuses a rate that is not a whole number of at least one', () => {
    expect(parsePolicy({ recall: { sendRatePerSecond: { sms: 100 } } }).recall.sendRatePerSecond).toEqual({
      sms: 100,
      push: 100,
      in_app: 200,
    });
    expect(() => parsePolicy({ recall: { sendRatePerSecond: { sms: 0 } } })).toThrow(
      /recall\.sendRatePerSecond\.sms/,
    );
    expect(() => parsePolicy({ recall: { sendRatePerSecond: { push: 2.5 } } })).toThrow(
      /recall\.sendRatePerSecond\.push/,
    );
  });
});

describe('firstAllowedSecond', () => {
  it('keeps a second inside sending hours and moves one in quiet hours to 08:00 local', () => {
    expect(firstAllowedSecond(sec('2026-11-26T01:00:00Z'), SHANGHAI)).toBe(sec('2026-11-26T01:00:00Z'));
    // 23:30 Shanghai → 08:00 the next morning.
    expect(firstAllowedSecond(sec('2026-11-26T15:30:00Z'), SHANGHAI)).toBe(sec('2026-11-27T00:00:00Z'));
    // In-app has no quiet hours.
    expect(firstAllowedSecond(sec('2026-11-26T15:30:00Z'), { timeZone: 'Asia/Shanghai' })).toBe(
      sec('2026-11-26T15:30:00Z'),
    );
  });
});

describe('SlotBook.allocate', () => {
  it('fills the due second up to the rate, then the next seconds', () => {
    const book = new SlotBook();
    const seconds = Array.from({ length: 25 }, () => book.allocate('sms', NINE_AM, 10, SHANGHAI).second);
    const due = epochSecond(NINE_AM);
    expect(seconds).toEqual([...Array(10).fill(due), ...Array(10).fill(due + 1), ...Array(5).fill(due + 2)]);
  });

  it('keeps channels apart: a full SMS second does not delay a push', () => {
    const book = new SlotBook();
    for (let i = 0; i < 3; i++) book.allocate('sms', NINE_AM, 1, SHANGHAI);
    expect(book.allocate('push', NINE_AM, 1, SHANGHAI).second).toBe(epochSecond(NINE_AM));
  });

  it('carries what does not fit before quiet hours over to 08:00 the next morning', () => {
    const book = new SlotBook();
    const lastSecond = Date.parse('2026-11-26T12:59:58Z'); // 20:59:58 in Shanghai
    const seconds = Array.from({ length: 5 }, () => book.allocate('sms', lastSecond, 2, SHANGHAI).second);
    expect(seconds).toEqual([
      epochSecond(lastSecond),
      epochSecond(lastSecond),
      epochSecond(lastSecond) + 1,
      epochSecond(lastSecond) + 1,
      sec('2026-11-27T00:00:00Z'),
    ]);
  });

  it('reaches the end of a long run of full seconds in a few probes, not one per second', () => {
    const book = new SlotBook();
    for (let i = 0; i < 20_000; i++) book.allocate('sms', NINE_AM, 10, SHANGHAI);
    // 2,000 seconds are full; a newcomer due at 09:00 finds 09:33:20 in a handful of probes.
    const choice = book.allocate('sms', NINE_AM, 10, SHANGHAI);
    expect(choice.second).toBe(epochSecond(NINE_AM) + 2000);
    expect(choice.probes).toBeLessThanOrEqual(3);
  });

  it('does not let one zone’s quiet hours hide free seconds from another zone', () => {
    const book = new SlotBook();
    // Shanghai is quiet from 21:00; a user in London (13:00 there) may still be sent to then.
    const evening = Date.parse('2026-11-26T12:59:59Z');
    book.allocate('sms', evening, 1, SHANGHAI); // takes 20:59:59
    const carried = book.allocate('sms', evening, 1, SHANGHAI); // jumps to 08:00 next day
    expect(carried.second).toBe(sec('2026-11-27T00:00:00Z'));
    const london = book.allocate('sms', evening, 1, { timeZone: 'Europe/London', quiet: QUIET });
    expect(london.second).toBe(epochSecond(evening) + 1);
  });

  it('refuses a rate below one', () => {
    expect(() => new SlotBook().allocate('sms', NINE_AM, 0, SHANGHAI)).toThrow(RangeError);
  });
});

describe('the slot search', () => {
  it('yields the due second first and returns the one the store granted', () => {
    const search = searchSendSecond(NINE_AM, SHANGHAI);
    expect(search.next().value).toBe(epochSecond(NINE_AM));
    expect(search.next({ claimed: false, next: epochSecond(NINE_AM) + 60 }).value).toBe(
      epochSecond(NINE_AM) + 60,
    );
    const done = search.next({ claimed: true });
    expect(done).toEqual({
      done: true,
      value: {
        second: epochSecond(NINE_AM) + 60,
        probes: 2,
        skips: [{ seconds: [epochSecond(NINE_AM)], to: epochSecond(NINE_AM) + 60 }],
      },
    });
  });
});

const CHANNELS: RecallChannel[] = ['sms', 'push', 'in_app'];
const ZONES = ['Asia/Shanghai', 'Europe/London', 'America/New_York', 'Australia/Sydney'];

/** A herd: many sends due within a few minutes, some in quiet hours, over several zones and channels. */
const herdArb = fc.record({
  rate: fc.integer({ min: 1, max: 20 }),
  sends: fc.array(
    fc.record({
      channel: fc.constantFrom(...CHANNELS),
      zone: fc.constantFrom(...ZONES),
      // Within a day of 09:00 Shanghai, bunched on a few instants as recalls are.
      dueMs: fc.oneof(
        fc.constantFrom(NINE_AM, NINE_AM + 11 * 3_600_000, NINE_AM + 23 * 3_600_000),
        fc.integer({ min: NINE_AM, max: NINE_AM + 86_400_000 }),
      ),
    }),
    { minLength: 1, maxLength: 400 },
  ),
});

describe('allocation properties', () => {
  it('never puts more sends in a second than the rate, drops none, sends none in quiet hours or before its due time', () => {
    fc.assert(
      fc.property(herdArb, ({ rate, sends }) => {
        const book = new SlotBook();
        const perSecond = new Map<string, number>();
        for (const send of sends) {
          const allowed: AllowedHours = {
            timeZone: send.zone,
            ...(send.channel === 'in_app' ? {} : { quiet: QUIET }),
          };
          const { second } = book.allocate(send.channel, send.dueMs, rate, allowed);
          const key = `${send.channel}#${second}`;
          perSecond.set(key, (perSecond.get(key) ?? 0) + 1);
          expect(second).toBeGreaterThanOrEqual(epochSecond(send.dueMs));
          if (allowed.quiet) expect(isQuietTime(second * 1000, send.zone, QUIET)).toBe(false);
        }
        // Nothing lost: every send has a second; and no second over the rate.
        expect([...perSecond.values()].reduce((a, b) => a + b, 0)).toBe(sends.length);
        for (const [key, count] of perSecond) {
          expect(count, key).toBeLessThanOrEqual(rate);
          expect(book.count(key.split('#')[0] as RecallChannel, Number(key.split('#')[1]))).toBe(count);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives each send the first second that still had room for it (no gaps left before it in its allowed hours)', () => {
    fc.assert(
      fc.property(herdArb, ({ rate, sends }) => {
        const book = new SlotBook();
        for (const send of sends.filter((s) => s.zone === 'Asia/Shanghai' && s.channel === 'sms')) {
          const due = epochSecond(send.dueMs);
          const { second } = book.allocate('sms', send.dueMs, rate, SHANGHAI);
          for (
            let s = firstAllowedSecond(due, SHANGHAI);
            s < second;
            s = firstAllowedSecond(s + 1, SHANGHAI)
          ) {
            expect(book.count('sms', s), `second ${s} before ${second}`).toBe(rate);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('scanPageLimit', () => {
  it('starts with a small page to measure the pace, unless the cap is smaller', () => {
    expect(scanPageLimit(870_000, undefined)).toBe(100);
    expect(scanPageLimit(870_000, undefined, 25)).toBe(25);
  });

  it('sizes a page to half the time left at the pace seen so far, at least one user, at most the cap', () => {
    expect(scanPageLimit(60_000, 10)).toBe(3000);
    expect(scanPageLimit(60_000, 10, 1000)).toBe(1000);
    expect(scanPageLimit(5, 10)).toBe(1);
    // Past the reserve already: the page the caller asked for, after which it hands over.
    expect(scanPageLimit(-100, 10)).toBeUndefined();
    expect(scanPageLimit(-100, 10, 40)).toBe(40);
    // No deadline (local runs): the cap, or DynamoDB's 1 MB page.
    expect(scanPageLimit(Number.POSITIVE_INFINITY, 10)).toBeUndefined();
    expect(scanPageLimit(Number.POSITIVE_INFINITY, 10, 500)).toBe(500);
  });
});
