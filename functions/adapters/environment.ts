import { type Policy, parsePolicy } from '../domain/policy.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

export class MissingConfigurationError extends Error {
  override readonly name = 'MissingConfigurationError';
}

export function requireEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value === '')
    throw new MissingConfigurationError(`environment variable ${name} is not set`);
  return value;
}

/** The policy a function runs with: the stack passes the operators' JSON in WINBACK_POLICY. */
export function policyFromEnv(env: Environment): Policy {
  const raw = env.WINBACK_POLICY;
  if (raw === undefined || raw === '') return parsePolicy({});
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new MissingConfigurationError(`WINBACK_POLICY is not valid JSON: ${(error as Error).message}`);
  }
  return parsePolicy(parsed, 'WINBACK_POLICY');
}

/**
 * The `winback:*` tags the stack puts on its resources. The embedded runtime finds tables, state
 * machines and handlers in the synthesized template by these, so both sides import them from here.
 */
export const TAGS = {
  table: 'winback:table',
  workflow: 'winback:workflow',
  handler: 'winback:handler',
  topic: 'winback:topic',
} as const;

/** Environment variable names the stack sets and the handlers read; one list so neither side drifts. */
export const ENV = {
  usersTable: 'USERS_TABLE',
  recallsTable: 'RECALLS_TABLE',
  messagesTable: 'MESSAGES_TABLE',
  inboxTable: 'INBOX_TABLE',
  rewardsTable: 'REWARDS_TABLE',
  eventsTable: 'EVENTS_TABLE',
  jobsTable: 'JOBS_TABLE',
  sendSlotsTable: 'SEND_SLOTS_TABLE',
  operatorTopicArn: 'OPERATOR_TOPIC_ARN',
  recallStateMachineArn: 'RECALL_STATE_MACHINE_ARN',
  pushApplicationId: 'PUSH_APPLICATION_ID',
  smsProvider: 'SMS_PROVIDER',
  smsSenderId: 'SMS_SENDER_ID',
  smsOriginationIdentity: 'SMS_ORIGINATION_IDENTITY',
  smsConfigurationSet: 'SMS_CONFIGURATION_SET',
  pushChannelType: 'PUSH_CHANNEL_TYPE',
  policy: 'WINBACK_POLICY',
  /** The history bucket; the scan writes `snapshots/`, the API `feedback/`. */
  lakeBucket: 'LAKE_BUCKET',
} as const;
