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
  const json = { content: { 'application/json': {} } };
  const responses: Record<string, JsonSchema> = {
    [route.success.status]: {
      description: route.success.description,
      content: {
        'application/json': route.success.schema ? { schema: schemaOf(route.success.schema, 'output') } : {},
      },
    },
  };
  for (const status of [...route.errors, 401, 404, 405]) {
    responses[status] ??= {
      description: STATUS_TEXT[status] ?? 'error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  responses.default = { description: 'unexpected error', ...json };
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
      description:
        'Churn early warning and recall. In AWS every route needs IAM (SigV4) authorization; ' +
        'the local server (`winback serve`) takes `Authorization: Bearer $WINBACK_API_TOKEN`.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
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
