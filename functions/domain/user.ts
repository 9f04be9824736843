import { z } from 'zod';
import './issues.ts';
import { toIso } from './time.ts';

/** Why a churned user left, as learned from a callback or survey; steers the recall strategy. */
export const CHURN_REASONS = ['economic', 'frustrated', 'policy', 'natural', 'other'] as const;
export type ChurnReason = (typeof CHURN_REASONS)[number];

/** Channels the playbook names; any other string is accepted and gets the policy's default base risk. */
export const KNOWN_CHANNELS = ['distribution', 'invite', 'finance_supermarket', 'organic', 'ads'] as const;

/**
 * Any ISO-8601 time with an offset, normalized to UTC with milliseconds: stored times are compared
 * as strings in DynamoDB conditions, which only works when they all have the same form.
 */
const isoTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 time, e.g. 2026-11-24T09:00:00Z' })
  .transform((t) => toIso(t));
/** Money: a missing amount is "required", anything but a whole non-negative number says fen. */
export const wholeFen = () =>
  z
    .number({ error: (i) => (i.input === undefined ? 'required' : 'must be a whole number of fen') })
    .int('must be a whole number of fen');
const fen = wholeFen().nonnegative('must not be negative');
const isoDate = z.iso.date({ message: 'must be a date YYYY-MM-DD' });

// Constructing a formatter is the only portable check and costs tens of microseconds; the scan
// validates every record daily, and a user base has a handful of distinct zones.
const knownZones = new Map<string, boolean>();

export function isTimeZone(value: string): boolean {
  let known = knownZones.get(value);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
      known = true;
    } catch {
      known = false;
    }
    if (knownZones.size < 10_000) knownZones.set(value, known);
  }
  return known;
}

export const ConsentSchema = z.strictObject({
  inApp: z.boolean(),
  push: z.boolean(),
  sms: z.boolean(),
});
export type Consent = z.infer<typeof ConsentSchema>;

/**
 * The profile and behaviour fields a user record carries: what the app's backend writes
 * and what the policy reads. Money in fen, times in ISO-8601 UTC.
 */
export const userProfileShape = {
  userId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only'),
  channel: z.string().min(1).max(64),
  registeredAt: isoTime,
  lastLoginAt: isoTime.optional(),
  lastInvestAt: isoTime.optional(),
  investCount: z.number().int().nonnegative(),
  maxInvestFen: fen,
  totalInvestedFen: fen,
  balanceFen: fen,
  heldBonusProduct: z.boolean(),
  timeZone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai')
    .default('Asia/Shanghai'),
  locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number')
    .optional(),
  pushAddress: z.string().min(1).max(4096).optional(),
  consent: ConsentSchema.default({ inApp: true, push: false, sms: false }),
  birthday: isoDate.optional(),
  churnReason: z.enum(CHURN_REASONS).optional(),
  preferredProducts: z.array(z.string().min(1).max(64)).max(20).optional(),
};

/** A profile as written through the API or an import: unknown fields are rejected. */
export const UserProfileSchema = z.strictObject(userProfileShape);
export type UserProfile = z.infer<typeof UserProfileSchema>;

export const ASSESSMENT_STATUSES = ['active', 'at_risk', 'churned'] as const;
export const RISK_LEVELS = ['none', 'low', 'medium', 'high'] as const;
export const LIFECYCLE_STAGES = ['novice', 'growth', 'mature'] as const;
export type AssessmentStatus = (typeof ASSESSMENT_STATUSES)[number];
export type RiskLevel = (typeof RISK_LEVELS)[number];
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** The latest assessment as stored on the user record by the daily scan. */
export const StoredAssessmentSchema = z.object({
  status: z.enum(ASSESSMENT_STATUSES),
  level: z.enum(RISK_LEVELS),
  score: z.number(),
  lifecycle: z.enum(LIFECYCLE_STAGES),
  reasons: z.array(z.object({ code: z.string() }).loose()),
  assessedAt: isoTime,
});
export type StoredAssessment = z.infer<typeof StoredAssessmentSchema>;

/**
 * A user record as stored: the profile plus what winback itself maintains. Readers ignore
 * attributes they do not know so that a newer writer never breaks an older reader.
 */
export const UserRecordSchema = z.object({
  ...userProfileShape,
  // Stored records tolerate consent flags a newer writer may add; the profile schema stays strict.
  consent: z.object(ConsentSchema.shape).default({ inApp: true, push: false, sms: false }),
  assessment: StoredAssessmentSchema.optional(),
  /** Set while a recall episode is open; the conditional write on it keeps one active recall per user. */
  activeRecallId: z.string().optional(),
  lastRecallClosedAt: isoTime.optional(),
  lastRecallOutcome: z.string().optional(),
  /** Until this time a returned user is watched for a relapse. */
  relapseWatchUntil: isoTime.optional(),
  updatedAt: isoTime.optional(),
});
export type UserRecord = z.infer<typeof UserRecordSchema>;

export interface FieldIssue {
  field: string;
  message: string;
}

/** Flattens a zod error into field paths an operator can act on ("consent.sms: expected boolean"). */
export function describeIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // An unknown key is reported at the key itself, so "churn.inactiveDay", not just "churn".
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'unknown field' }));
    }
    return [{ field: at.length > 0 ? at.join('.') : '(record)', message: issue.message }];
  });
}

export function formatIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

export function parseUserRecord(input: unknown): ParseResult<UserRecord> {
  const result = UserRecordSchema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: describeIssues(result.error) };
}

export function parseUserProfile(input: unknown): ParseResult<UserProfile> {
  const result = UserProfileSchema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: describeIssues(result.error) };
}

/** Replaces anything that looks like a phone number in free text (provider errors quote them). */
export function redactNumbers(text: string): string {
  return text.replace(/\+?\d[\d\s-]{5,18}\d/g, '[number]');
}

/** Masks all but the last four digits so logs and the outbox never carry a full phone number. */
export function maskPhone(phone: string): string {
  return phone.length <= 4 ? '****' : `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}
