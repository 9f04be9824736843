#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npx winback` works right after `npm ci` with no build step.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // The workflow engine and the SDK need Node 22+; npx and npm scripts use the project's pinned Node 24.
  process.stderr.write(
    `winback: needs Node 22 or newer, this is Node ${process.versions.node}; run it as "npx winback" or "npm start", which use the project's Node 24\n`,
  );
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
await import('../local/cli.ts');
