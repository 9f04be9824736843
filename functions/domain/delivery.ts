import type { RecallChannel } from './assessment.ts';
import type { Policy } from './policy.ts';
import { maskPhone, type UserRecord } from './user.ts';

/**
 * What a provider's answer says about a message a person may receive. Only a definite refusal
 * proves nothing went out; anything else after the request left is in doubt, and a message in doubt
 * is never sent again (at most once for anything a person receives).
 */
export type ProviderVerdict = { kind: 'refused'; retryable: boolean } | { kind: 'in_doubt' };

/** Refusals the provider answers before accepting anything, worth another try after a pause. */
const THROTTLED = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'Throttling',
  'RequestLimitExceeded',
]);

/** Refusals that will not change on a retry: bad input, an opted-out number, missing rights or keys. */
const REFUSED = new Set([
  'ValidationException',
  'InvalidParameterException',
  'InvalidParameterValueException',
  'InvalidParameter',
  'BadRequestException',
  'PayloadTooLargeException',
  'MethodNotAllowedException',
  'ConflictException',
  'OptedOutException',
  'AuthorizationErrorException',
  'AccessDeniedException',
  'ForbiddenException',
  'NotFoundException',
  'ResourceNotFoundException',
  'EndpointDisabledException',
  'PlatformApplicationDisabledException',
  'ServiceQuotaExceededException',
  'KMSDisabledException',
  'KMSAccessDeniedException',
  'KMSNotFoundException',
  'KMSInvalidStateException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'CredentialsProviderError',
]);

export interface ProviderFailure {
  name: string;
  /** HTTP status of the provider's answer, when there was one. */
  httpStatus?: number;
  /** Requests the SDK made; more than one means an earlier one may have been accepted. */
  attempts?: number;
}

/**
 * Classifies a failed send call. A 5xx, a timeout, a reset socket, an unknown error, or any error
 * after more than one attempt is in doubt; a known refusal answered with a 4xx (or before a request
 * was made) is definite.
 */
export function classifyProviderFailure(failure: ProviderFailure): ProviderVerdict {
  const { name, httpStatus, attempts } = failure;
  if (httpStatus !== undefined && httpStatus >= 500) return { kind: 'in_doubt' };
  if ((attempts ?? 1) > 1) return { kind: 'in_doubt' };
  if (THROTTLED.has(name)) return { kind: 'refused', retryable: true };
  if (REFUSED.has(name)) return { kind: 'refused', retryable: false };
  return { kind: 'in_doubt' };
}

/** End User Messaging push: the per-address `DeliveryStatus` of a `SendMessages` answer. */
export type PushVerdict = { kind: 'sent' } | { kind: 'invalid_address' } | ProviderVerdict;

export function classifyPushStatus(status: string | undefined): PushVerdict {
  switch (status) {
    case 'SUCCESSFUL':
      return { kind: 'sent' };
    case 'PERMANENT_FAILURE':
    case 'OPT_OUT':
      return { kind: 'invalid_address' };
    case 'THROTTLED':
    case 'TEMPORARY_FAILURE':
      return { kind: 'refused', retryable: true };
    case 'DUPLICATE':
      return { kind: 'refused', retryable: false };
    default:
      // TIMEOUT, UNKNOWN_FAILURE, or no answer for the address: the provider may have sent it.
      return { kind: 'in_doubt' };
  }
}

/**
 * Everything that differs between channels, in one place: who consented, where it goes, how the
 * address appears in records, how long the escalation waits after it, whether quiet hours hold it,
 * and whether its outcome can be in doubt (the in-app inbox is our own idempotent table; it cannot).
 */
export interface ChannelRule {
  consented(user: UserRecord): boolean;
  address(user: UserRecord): string | undefined;
  masked(address: string): string;
  waitHours(policy: Policy): number;
  quietHours: boolean;
  canBeInDoubt: boolean;
}

export const CHANNEL_RULES: Readonly<Record<RecallChannel, ChannelRule>> = {
  in_app: {
    consented: (u) => u.consent.inApp,
    address: (u) => u.userId,
    masked: () => 'inbox',
    waitHours: (p) => p.recall.waitHours.afterInApp,
    quietHours: false,
    canBeInDoubt: false,
  },
  push: {
    consented: (u) => u.consent.push,
    address: (u) => u.pushAddress,
    masked: (a) => `${a.slice(0, 6)}…`,
    waitHours: (p) => p.recall.waitHours.afterPush,
    quietHours: true,
    canBeInDoubt: true,
  },
  sms: {
    consented: (u) => u.consent.sms,
    address: (u) => u.phone,
    masked: maskPhone,
    waitHours: (p) => p.recall.waitHours.afterSms,
    quietHours: true,
    canBeInDoubt: true,
  },
};

/** Consent and an address: whether a channel can reach the user at all. */
export function canReach(user: UserRecord, channel: RecallChannel): boolean {
  const rule = CHANNEL_RULES[channel];
  return rule.consented(user) && !!rule.address(user);
}
