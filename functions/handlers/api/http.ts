import type { APIGatewayProxyResult } from 'aws-lambda';
import type { WinbackLogger } from '../../adapters/logger.ts';
import type { HttpMethod } from '../../domain/api-schemas.ts';
import {
  ConflictError,
  InvalidRequestError,
  InvalidStoredRecordError,
  NotFoundError,
} from '../../use-cases/api-errors.ts';

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** Errors the HTTP layer itself raises, before any use case runs. */
export class RouteNotFoundError extends Error {
  override readonly name = 'RouteNotFoundError';
}

export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
  constructor(readonly allow: HttpMethod[]) {
    super('method not allowed');
  }
}

export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/** middy's HttpError, as its packages throw it (createError from @middy/util). */
interface MiddyHttpError extends Error {
  statusCode: number;
  cause?: { package?: string };
}

function isMiddyHttpError(error: unknown): error is MiddyHttpError {
  return error instanceof Error && typeof (error as MiddyHttpError).statusCode === 'number';
}

/**
 * The one place where errors become HTTP responses. Bodies name a code and, for invalid input, each
 * field with the rule it broke; they never repeat a received value (it may be a phone number).
 * Anything unexpected is logged and answered as a bare 500.
 */
export function errorResponse(error: unknown, logger: WinbackLogger): APIGatewayProxyResult {
  if (error instanceof InvalidRequestError) {
    return json(400, {
      error: 'invalid_request',
      message: 'the request has invalid fields',
      issues: error.issues,
    });
  }
  if (error instanceof NotFoundError) return json(404, { error: error.code, message: error.message });
  if (error instanceof ConflictError) {
    return json(409, { error: error.code, message: error.message, ...error.details });
  }
  if (error instanceof InvalidStoredRecordError) {
    return json(422, {
      error: 'invalid_user_record',
      message: 'the stored user record is invalid; PUT /users/{userId} a valid profile',
      fields: error.fields,
    });
  }
  if (error instanceof RouteNotFoundError)
    return json(404, { error: 'route_not_found', message: 'no such route' });
  if (error instanceof MethodNotAllowedError) {
    return json(
      405,
      { error: 'method_not_allowed', message: `allowed: ${error.allow.join(', ')}` },
      { allow: error.allow.join(', ') },
    );
  }
  if (error instanceof PayloadTooLargeError) {
    return json(413, { error: 'payload_too_large', message: error.message });
  }
  if (isMiddyHttpError(error) && error.cause?.package === '@middy/http-json-body-parser') {
    // The parser answers 415 for a non-JSON content type and 422 for bad JSON; bad JSON is a 400 here.
    return error.statusCode === 415
      ? json(415, { error: 'unsupported_media_type', message: 'send the body as application/json' })
      : json(400, { error: 'invalid_json', message: 'the body is not valid JSON' });
  }
  logger.error('api request failed', {
    error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown',
  });
  return json(500, { error: 'internal_error', message: 'the request failed; it is safe to retry' });
}
