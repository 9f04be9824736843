import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Agent, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoServerOptions {
  /** Directory for an on-disk LevelDB store (created if missing); in memory when omitted. */
  dataDir?: string;
  /** 0 or omitted: any free port. */
  port?: number;
  /** Run dynalite on this thread instead of a child process (simpler to debug, slower under load). */
  inProcess?: boolean;
  /**
   * Run dynalite on a worker thread of this process and give clients of this process a request
   * handler that reaches it over a MessagePort, not HTTP (the embedded runtime's fast path). The
   * server still listens on loopback for anyone else.
   */
  worker?: boolean;
}

export interface DynamoServer {
  endpoint: string;
  port: number;
  /** With `worker`: pass to createDynamoClients so requests skip the HTTP round trip. */
  requestHandler?: WorkerRequestHandler;
  stop(): Promise<void>;
}

export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

interface ChildMessage {
  type: 'ready' | 'error';
  port?: number;
  message?: string;
}

// dynalite ships no types; this is the slice of its factory we use.
type DynaliteFactory = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

const CHILD_SCRIPT = fileURLToPath(new URL('./dynalite-child.mjs', import.meta.url));
const WORKER_SCRIPT = new URL('./dynalite-worker.mjs', import.meta.url);
const HOST = '127.0.0.1';
const STOP_GRACE_MS = 6000;

export async function startDynamoServer(opts: DynamoServerOptions = {}): Promise<DynamoServer> {
  if (opts.worker) return startInWorker(opts);
  return opts.inProcess ? startInProcess(opts) : startChild(opts);
}

/**
 * Sockets kept open to the local store. The runtime bounds its own concurrency below this (task
 * invocations, scan writes), so requests rarely queue in the agent and the SDK's "socket usage at
 * capacity" warning (queue ≥ 2 × sockets) cannot fire.
 */
export const LOCAL_STORE_SOCKETS = 64;

/**
 * The store checks that a request carries a well-formed SigV4 `Authorization` header, never the
 * signature itself (any credentials work). Deriving keys and HMAC-signing every request cost the
 * embedded runtime a sixth of its time; a fixed header says the same to dynalite.
 */
const LOCAL_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0';
export const localSigner = {
  sign: async <R extends { headers: Record<string, string> }>(request: R): Promise<R> => {
    request.headers.authorization = LOCAL_AUTHORIZATION;
    request.headers['x-amz-date'] = '20260101T000000Z';
    return request;
  },
};

export interface DynamoClientOptions {
  /** Keep-alive sockets to the store; default LOCAL_STORE_SOCKETS. */
  maxSockets?: number;
  /** A server's worker request handler (see DynamoServerOptions.worker) instead of HTTP. */
  requestHandler?: WorkerRequestHandler;
}

/** SDK clients for the local store: the real SDK stack, minus signing, over one keep-alive agent. */
export function createDynamoClients(endpoint: string, opts: DynamoClientOptions = {}): DynamoClients {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    signer: localSigner,
    requestHandler: opts.requestHandler
      ? // Structurally the SDK's HttpHandler; its type lives in @smithy/types, not a dependency of ours.
        (opts.requestHandler as unknown as DynamoDBClientConfig['requestHandler'])
      : { httpAgent: new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? LOCAL_STORE_SOCKETS }) },
  });
  // The store has no use for the SDK's user-agent header, and building it was ~1.5% of the runtime.
  client.middlewareStack.remove('getUserAgentMiddleware');
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, doc };
}

async function startChild(opts: DynamoServerOptions): Promise<DynamoServer> {
  const args = JSON.stringify({ path: opts.dataDir, port: opts.port ?? 0 });
  // Bare execPath without execArgv: the child is plain JS and must not inherit a TS loader or inspector.
  const child = spawn(process.execPath, [CHILD_SCRIPT, args], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
    process.stderr.write(chunk);
  });

  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (msg: ChildMessage) => {
      if (msg.type === 'ready' && typeof msg.port === 'number') {
        cleanup();
        resolve(msg.port);
      } else if (msg.type === 'error') {
        cleanup();
        reject(new Error(`dynalite child failed to start: ${msg.message ?? 'unknown error'}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`dynalite child exited before listening (code ${code}, signal ${signal})\n${stderr}`));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  // Once running, the server must not keep the parent alive on its own: if the parent exits without
  // calling stop(), the IPC channel closes and the child shuts itself down ('disconnect').
  child.unref();
  child.channel?.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return { endpoint: `http://${HOST}:${port}`, port, stop: () => stopChild(child, exited) };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Re-ref so the parent stays alive until the child has actually gone.
  child.ref();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function startInProcess(opts: DynamoServerOptions): Promise<DynamoServer> {
  const require = createRequire(import.meta.url);
  const dynalite = require('dynalite') as DynaliteFactory;
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const server = dynalite({ path: opts.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Same reason as in dynalite-child.mjs: keep-alive sockets must outlive the SDK's idle reuse.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 10 * 60_000 + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  return { endpoint: `http://${HOST}:${port}`, port, stop };
}

interface WorkerRequest {
  id: number;
  headers: Record<string, string>;
  body: string;
}

interface WorkerResponse {
  id: number;
  statusCode?: number;
  headers?: Record<string, string>;
  body?: Uint8Array;
  error?: string;
}

const decoder = new TextDecoder();

type WorkerEvent = { type: 'ready'; port: number } | { type: 'error'; message: string } | { type: 'closed' };

/**
 * The SDK's HTTP handler contract (`handle(request) → { response }`), answered by dynalite on a
 * worker thread. Requests made in one turn travel in one message, and so do the answers.
 */
export class WorkerRequestHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #queue: WorkerRequest[] = [];
  /** Requests handed to the store so far (the bench's count of store calls). */
  requests = 0;
  #failure: Error | undefined;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: WorkerResponse[] | WorkerEvent) => {
      if (!Array.isArray(message)) return;
      for (const response of message) {
        const pending = this.#pending.get(response.id);
        if (!pending) continue;
        this.#pending.delete(response.id);
        pending.resolve(response);
      }
      // The worker is unref'd while idle, so a runtime left unstopped cannot keep the process alive;
      // while an answer is awaited it must, or the process could exit under a pending request.
      if (this.#pending.size === 0) worker.unref();
    });
  }

  async handle(request: {
    headers: Record<string, string>;
    body?: unknown;
  }): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }> {
    if (this.#failure) throw this.#failure;
    const id = this.#nextId++;
    this.requests++;
    // The JSON protocol hands its body over as a string or as bytes, depending on the SDK version.
    const body =
      typeof request.body === 'string'
        ? request.body
        : request.body instanceof Uint8Array
          ? decoder.decode(request.body)
          : '';
    const answer = new Promise<WorkerResponse>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    if (this.#pending.size === 1) this.#worker.ref();
    this.#queue.push({ id, headers: request.headers, body });
    // One message per event-loop turn: every task woken in this turn adds its request first.
    if (this.#queue.length === 1) setImmediate(() => this.#flush());
    const response = await answer;
    if (response.error !== undefined) throw new Error(`local store failed on a request: ${response.error}`);
    return {
      response: {
        statusCode: response.statusCode ?? 500,
        headers: response.headers ?? {},
        body: response.body ?? new Uint8Array(),
      },
    };
  }

  /** The worker belongs to the server, which stops it; a client's destroy() must not. */
  destroy(): void {}
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** Fails every request in flight and every later one: the store is gone. */
  fail(error: Error): void {
    this.#failure = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#worker.postMessage(batch);
  }
}

async function startInWorker(opts: DynamoServerOptions): Promise<DynamoServer> {
  // No execArgv: the worker is plain JS and must not inherit a TS loader or inspector flags.
  const worker = new Worker(WORKER_SCRIPT, {
    workerData: { path: opts.dataDir, port: opts.port ?? 0 },
    execArgv: [],
  });
  const handler = new WorkerRequestHandler(worker);
  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (message: WorkerResponse[] | WorkerEvent) => {
      if (Array.isArray(message)) return;
      if (message.type === 'ready') {
        cleanup();
        resolve(message.port);
      } else if (message.type === 'error') {
        cleanup();
        reject(new Error(`dynalite worker failed to start: ${message.message}`));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
  });
  worker.on('error', (err) => handler.fail(new Error(`local store stopped: ${err.message}`)));
  worker.once('exit', (code) => handler.fail(new Error(`local store stopped (worker exit ${code})`)));
  worker.unref();

  const stop = async () => {
    worker.ref();
    const closed = new Promise<void>((resolve) => {
      const onMessage = (message: WorkerResponse[] | WorkerEvent) => {
        if (!Array.isArray(message) && message.type === 'closed') resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', () => resolve());
    });
    worker.postMessage('close');
    // dynalite closes LevelDB before answering; a stuck close must not hang the caller for good.
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
      await worker.terminate();
    }
  };
  return { endpoint: `http://${HOST}:${port}`, port, requestHandler: handler, stop };
}
