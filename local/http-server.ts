import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * The local stand-in for API Gateway: turns each HTTP request into the REST proxy event the Lambda
 * receives in AWS, runs the same handler, and writes its result back. Where AWS checks IAM (SigV4),
 * this server checks a bearer token.
 */

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface LocalHttpServerOptions {
  handler: ProxyHandler;
  host: string;
  /** 0: any free port. */
  port: number;
  /** Required as `Authorization: Bearer <token>`; without one every request is let through. */
  token?: string;
  /** Bodies above this are refused unread (the handler's own, lower limit answers 413 below it). */
  maxReadBytes?: number;
  onError?: (error: unknown) => void;
}

export interface LocalHttpServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Like API Gateway's 10 MB, but smaller: nothing legitimate comes close to it here. */
const DEFAULT_MAX_READ = 1024 * 1024;

export async function startHttpServer(opts: LocalHttpServerOptions): Promise<LocalHttpServer> {
  const expected = opts.token ? digest(opts.token) : undefined;
  const maxRead = opts.maxReadBytes ?? DEFAULT_MAX_READ;
  const server = createServer((req, res) => {
    serve(req, res).catch((error) => {
      opts.onError?.(error);
      if (!res.headersSent) send(res, 500, { error: 'internal_error', message: 'the request failed' });
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (expected && !authorized(req.headers.authorization, expected)) {
      send(
        res,
        401,
        { error: 'unauthorized', message: 'send Authorization: Bearer $WINBACK_API_TOKEN' },
        {
          'www-authenticate': 'Bearer realm="winback"',
        },
      );
      req.resume();
      return;
    }
    const body = await readBody(req, maxRead);
    if (body === 'too_large') {
      send(
        res,
        413,
        { error: 'payload_too_large', message: 'the body is too large' },
        { connection: 'close' },
      );
      return;
    }
    const result = await opts.handler(toProxyEvent(req, body));
    const headers: Record<string, string | string[]> = {
      ...result.multiValueHeaders,
      ...result.headers,
    } as Record<string, string | string[]>;
    res.writeHead(result.statusCode, headers);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests in constant time, so response timing says nothing about the token. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too_large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    return 'too_large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      return 'too_large';
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The REST API (v1) proxy event API Gateway would send for this request. */
export function toProxyEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const method = req.method ?? 'GET';
  const now = Date.now();
  return {
    resource: '/{proxy+}',
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: url.pathname === '/' ? null : { proxy: url.pathname.slice(1) },
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/local${url.pathname}`,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: '/{proxy+}',
    },
  };
}
