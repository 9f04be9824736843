import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Agent, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoServerOptions {
  /** Directory for an on-disk LevelDB store (created if missing); in memory when omitted. */
  dataDir?: string;
  /** 0 or omitted: any free port. */
  port?: number;
  /** Run dynalite on this thread instead of a child process (simpler to debug, slower under load). */
  inProcess?: boolean;
}

export interface DynamoServer {
  endpoint: string;
  port: number;
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
const HOST = '127.0.0.1';
const STOP_GRACE_MS = 6000;

export async function startDynamoServer(opts: DynamoServerOptions = {}): Promise<DynamoServer> {
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
}

/** SDK clients for the local store: the real SDK stack, minus signing, over one keep-alive agent. */
export function createDynamoClients(endpoint: string, opts: DynamoClientOptions = {}): DynamoClients {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    signer: localSigner,
    requestHandler: {
      httpAgent: new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? LOCAL_STORE_SOCKETS }),
    },
  });
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
