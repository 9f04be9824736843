// Runs dynalite on a worker thread and feeds it requests over a MessagePort instead of HTTP (see
// dynamo-server.ts, startInWorker). The store keeps its own core and event loop, as in a child
// process, but no request pays for a loopback socket write, HTTP framing and parsing on both sides,
// which on this kind of VM cost more than dynalite's own work. Plain JS on purpose: the worker starts
// without a TypeScript loader.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const options = workerData ?? {};
if (options.path) mkdirSync(options.path, { recursive: true });

// Tables become ACTIVE at once: nothing local benefits from simulated provisioning delays.
const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
// dynalite's own request listener: it validates, runs the action and answers through `res`.
const handle = server.listeners('request')[0];
// The server also listens on loopback, so other clients (a test, the AWS CLI) can reach the same
// store over HTTP, and so that close() runs dynalite's own shutdown, which flushes LevelDB.
server.keepAliveTimeout = 10 * 60_000;
server.headersTimeout = 10 * 60_000 + 1000;
const encoder = new TextEncoder();

let outbox = [];
let transfers = [];
function reply(message, body) {
  outbox.push(message);
  if (body) transfers.push(body.buffer);
  // Answers produced in one turn go back in one message: one wake-up of the main thread, not many.
  if (outbox.length === 1) setImmediate(flush);
}
function flush() {
  const batch = outbox;
  const buffers = transfers;
  outbox = [];
  transfers = [];
  parentPort.postMessage(batch, buffers);
}

function serve({ id, headers, body }) {
  const req = new EventEmitter();
  req.method = 'POST';
  req.url = '/';
  req.headers = headers;
  const res = {
    statusCode: 200,
    headers: {},
    setHeader(name, value) {
      this.headers[name.toLowerCase()] = String(value);
    },
    end(data) {
      const bytes = data === undefined ? undefined : encoder.encode(String(data));
      reply({ id, statusCode: this.statusCode, headers: this.headers, body: bytes }, bytes);
    },
  };
  try {
    handle(req, res);
    // dynalite concatenates chunks and calls toString(): a string chunk is read as it is.
    req.emit('data', body);
    req.emit('end');
  } catch (error) {
    reply({ id, error: String(error?.stack ?? error) });
  }
}

parentPort.on('message', (message) => {
  if (message === 'close') {
    server.close(() => parentPort.postMessage({ type: 'closed' }));
    server.closeAllConnections?.();
    return;
  }
  for (const request of message) serve(request);
});
server.on('error', (err) => parentPort.postMessage({ type: 'error', message: String(err?.stack ?? err) }));
server.listen(options.port ?? 0, '127.0.0.1', () => {
  parentPort.postMessage({ type: 'ready', port: server.address().port });
});
