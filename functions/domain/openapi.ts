import { z } from 'zod';
import { API_ROUTES, type ApiRouteSpec, ErrorSchema } from './api-schemas.ts';

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid request: each bad field is named with the reason; nothing was written',
  401: 'missing or wrong credentials',
  404: 'no such resource (or route)',
  405: 'method not allowed; see the Allow header',
  409: 'conflict with the current state',
  413: 'request body larger than 64 KB',
  415: 'body is not application/json',
  422: 'the stored record cannot be used as it is',
};

/** Request schemas describe what a client may send (defaults optional), response schemas what it gets. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function operationOf(route: ApiRouteSpec): JsonSchema {
  const success = {
    description: route.success.description,
    content: {
      'application/json': route.success.schema ? { schema: schemaOf(route.success.schema, 'output') } : {},
    },
  };
  const responses: Record<string, JsonSchema> = { [route.success.status]: success };
  for (const status of route.success.also ?? []) responses[status] = success;
  // Every route can meet the local server's token check (401), the router (404, 405) and, with a
  // body, the JSON parser (415).
  const always = [401, 404, 405, ...(route.body ? [415] : [])];
  for (const status of [...route.errors, ...always]) {
    responses[status] ??= {
      description: STATUS_TEXT[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  responses.default = {
    description: 'unexpected error (500: the request failed; it is safe to retry)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    operationId: route.operationId,
    summary: route.summary,
    parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the API, generated from the same zod schemas the handlers validate
 * with (zod emits JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
 */
/** Where the API answers: the local server by default; in AWS, the stage URL the stack outputs. */
export const DEFAULT_SERVERS = [
  {
    url: 'http://127.0.0.1:8080',
    description: 'winback serve (local; Authorization: Bearer $WINBACK_API_TOKEN)',
  },
  {
    url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/v1',
    description: 'API Gateway stage v1 (IAM authorization, SigV4); the stack outputs the URL',
    variables: { restApiId: { default: 'abc123' }, region: { default: 'ap-east-1' } },
  },
];

export function openApiDocument(
  routes: readonly ApiRouteSpec[] = API_ROUTES,
  serverUrl?: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'winback',
      version: '1',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description:
        'Churn early warning and recall. In AWS every route needs IAM (SigV4) authorization; ' +
        'the local server (`winback serve`) takes `Authorization: Bearer $WINBACK_API_TOKEN`.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : DEFAULT_SERVERS,
    security: [{ sigv4: [] }],
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 (service execute-api)',
        },
      },
      schemas: { Error: schemaOf(ErrorSchema, 'output') },
    },
    paths,
  };
}
