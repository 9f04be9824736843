// Runs dynalite in its own process (spawned by dynamo-server.ts) so the DynamoDB emulator gets its own
// core and event loop. Plain JS on purpose: it is started with bare `node`, without a TypeScript loader.
import { mkdirSync } from 'node:fs';
import dynalite from 'dynalite';

const options = JSON.parse(process.argv[2] ?? '{}');
if (options.path) mkdirSync(options.path, { recursive: true });

// Tables become ACTIVE at once: nothing local benefits from simulated provisioning delays.
const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
// The SDK keeps sockets alive and reuses them; with Node's 5 s server default a socket can be closed
// just as the client sends on it, and the request dies with ECONNRESET. Idle sockets stay open instead.
server.keepAliveTimeout = 10 * 60_000;
server.headersTimeout = 10 * 60_000 + 1000;

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  // A force-exit backstop: LevelDB gets a chance to flush, but a stuck client cannot keep us alive.
  setTimeout(() => process.exit(0), 5000).unref();
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
}

server.on('error', (err) => {
  process.send?.({ type: 'error', message: String(err?.stack ?? err) });
  process.exit(1);
});

server.listen(options.port ?? 0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: server.address().port });
});

// The parent holds the IPC channel; losing it means the parent died (or stopped us), so we go too.
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
