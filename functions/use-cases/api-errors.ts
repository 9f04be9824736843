import type { z } from 'zod';
import { describeIssues } from '../domain/user.ts';

/**
 * What an API use case can refuse, as types. The handler maps each to an HTTP status in one place
 * (functions/handlers/api/errors.ts). Messages never carry a received value: it may be PII.
 */

export type IssueLocation = 'path' | 'query' | 'body';

export interface RequestIssue {
  in: IssueLocation;
  field: string;
  message: string;
}

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(readonly issues: RequestIssue[]) {
    super(`invalid request: ${issues.map((i) => `${i.in} ${i.field}`).join(', ')}`);
  }

  static from(error: z.ZodError, where: IssueLocation): InvalidRequestError {
    return new InvalidRequestError(issuesOf(error, where));
  }
}

export function issuesOf(error: z.ZodError, where: IssueLocation): RequestIssue[] {
  return describeIssues(error).map((i) => ({
    in: where,
    field: i.field === '(record)' ? '(body)' : i.field,
    message: i.message,
  }));
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    readonly code: 'user_not_found' | 'recall_not_found' | 'job_not_found' | 'report_not_found',
    message: string,
  ) {
    super(message);
  }
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    readonly code: 'recall_already_active' | 'recall_cooldown' | 'job_done' | 'job_busy',
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A stored user record fails validation: the request is fine, the data it needs is not. */
export class InvalidStoredRecordError extends Error {
  override readonly name = 'InvalidStoredRecordError';
  constructor(readonly fields: string[]) {
    super(`the stored user record has invalid fields: ${fields.join(', ')}`);
  }
}
