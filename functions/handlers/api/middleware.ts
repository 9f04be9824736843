import type { MiddlewareObj } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { WinbackLogger } from '../../adapters/logger.ts';
import { errorResponse, PayloadTooLargeError } from './http.ts';

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

function bodyBytes(event: APIGatewayProxyEvent): number {
  if (!event.body) return 0;
  return event.isBase64Encoded
    ? Buffer.byteLength(event.body, 'base64')
    : Buffer.byteLength(event.body, 'utf8');
}

/** Refuses a body over `maxBytes` before anything parses it (API Gateway itself would take 10 MB). */
export function bodyLimit(maxBytes: number): HttpMiddleware {
  return {
    before: (request) => {
      if (bodyBytes(request.event) > maxBytes) {
        throw new PayloadTooLargeError(`the body is larger than ${maxBytes / 1024} KB`);
      }
    },
  };
}

/**
 * middy's JSON body parser, applied only when there is a body: it would otherwise refuse every GET
 * for its missing content type. An absent body stays null and fails validation where one is required.
 */
export function jsonBody(): HttpMiddleware {
  const parser = httpJsonBodyParser() as HttpMiddleware;
  return {
    before: (request) => {
      const { body } = request.event;
      if (body === null || body === undefined || body === '') {
        request.event.body = null;
        return;
      }
      return parser.before?.(request);
    },
  };
}

/** Turns every error into its HTTP response (see errorResponse, the one mapping). */
export function errorResponses(logger: WinbackLogger): HttpMiddleware {
  return {
    onError: (request) => {
      request.response = errorResponse(request.error, logger);
    },
  };
}
