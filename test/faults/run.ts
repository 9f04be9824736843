import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

// `npm run test:faults -- [--seeds N] [--from S] [--seed S[,S...]] [--users N] [--days N]`:
// runs the fault-injection suite (test/faults/faults.test.ts) over more seeds than `npm test` does.
const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    from: { type: 'string' },
    seed: { type: 'string' },
    users: { type: 'string' },
    days: { type: 'string' },
  },
});

function whole(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, got "${text}"`);
    process.exit(2);
  }
  return n;
}

let seeds: number[];
if (values.seed !== undefined) {
  seeds = values.seed.split(',').map((s) => whole('seed', s, 0));
} else {
  const count = whole('seeds', values.seeds, 10);
  const from = whole('from', values.from, 1);
  seeds = Array.from({ length: count }, (_, i) => from + i);
}
const env = {
  ...process.env,
  FAULT_SEEDS: seeds.join(','),
  ...(values.users !== undefined ? { FAULT_USERS: String(whole('users', values.users, 0)) } : {}),
  ...(values.days !== undefined ? { FAULT_DAYS: String(whole('days', values.days, 0)) } : {}),
};
console.log(`fault-injection suite: seeds ${seeds.join(', ')}`);
const run = spawnSync('npx', ['vitest', 'run', 'test/faults/faults.test.ts'], { env, stdio: 'inherit' });
process.exit(run.status ?? 1);
