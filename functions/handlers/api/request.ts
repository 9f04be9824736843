import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import type { API_ROUTES, ApiRouteSpec, OperationId } from '../../domain/api-schemas.ts';
import { InvalidRequestError, issuesOf, type RequestIssue } from '../../use-cases/api-errors.ts';

type RouteOf<K extends OperationId> = Extract<(typeof API_ROUTES)[number], { operationId: K }>;
type QueryOf<R> = R extends { query: infer Q extends z.ZodType } ? z.output<Q> : Record<string, never>;
type BodyOf<R> = R extends { bodyFor: (body: unknown) => z.ZodType<infer O> }
  ? O
  : R extends { body: infer B extends z.ZodType }
    ? z.output<B>
    : undefined;

/** A request after validation: typed by the route's own schemas. */
export interface RequestOf<K extends OperationId> {
  params: z.output<RouteOf<K>['params']>;
  query: QueryOf<RouteOf<K>>;
  body: BodyOf<RouteOf<K>>;
}

/**
 * Validates path, query and body together and reports every bad field at once, so a client fixes
 * its request in one round. Nothing runs (and so nothing is written) unless all three are valid.
 */
export function parseRequest<K extends OperationId>(
  route: ApiRouteSpec,
  params: Record<string, string>,
  event: APIGatewayProxyEvent,
): RequestOf<K> {
  const issues: RequestIssue[] = [];
  const check = (schema: z.ZodType, value: unknown, where: RequestIssue['in']): unknown => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    issues.push(...issuesOf(result.error, where));
    return undefined;
  };
  const parsedParams = check(route.params, params, 'path');
  const query = route.query ? check(route.query, event.queryStringParameters ?? {}, 'query') : {};
  if (!route.query && Object.keys(event.queryStringParameters ?? {}).length > 0) {
    issues.push({ in: 'query', field: '(query)', message: 'this route takes no query parameters' });
  }
  // The JSON body parser has replaced the string with the parsed value.
  let raw = event.body as unknown;
  if (raw === null && route.bodyOptional) raw = {};
  let body: unknown;
  if (route.body) {
    if (raw === null) issues.push({ in: 'body', field: '(body)', message: 'a JSON body is required' });
    else body = check(route.bodyFor ? route.bodyFor(raw) : route.body, raw, 'body');
  } else if (raw !== null) {
    issues.push({ in: 'body', field: '(body)', message: 'this route takes no body' });
  }
  if (issues.length > 0) throw new InvalidRequestError(issues);
  return { params: parsedParams, query, body } as RequestOf<K>;
}
