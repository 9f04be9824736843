import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Sums self-time of a V8 .cpuprofile (from `node --cpu-prof`) by package or project file, so a profile
 * says where the time goes in one screen. Usage: `tsx bench/profile-summary.ts DIR_OR_FILE [top]`.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function bucketOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const m = /\/(functions|local|lib|bench|test)\/.*$/.exec(url);
  return m ? m[0].slice(1) : url;
}

export function summarize(profile: CpuProfile): {
  total: number;
  buckets: Map<string, number>;
  fns: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const buckets = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node) continue;
    total += dt;
    const b = bucketOf(node.callFrame.url, node.callFrame.functionName);
    buckets.set(b, (buckets.get(b) ?? 0) + dt);
    const f = `${b} ${node.callFrame.functionName || '(anonymous)'}:${node.callFrame.lineNumber}`;
    fns.set(f, (fns.get(f) ?? 0) + dt);
  }
  return { total, buckets, fns };
}

function main(): void {
  const target = process.argv[2];
  if (!target) throw new Error('usage: tsx bench/profile-summary.ts DIR_OR_FILE [top]');
  const top = Number(process.argv[3] ?? 25);
  const files = target.endsWith('.cpuprofile')
    ? [target]
    : readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f));
  for (const file of files) {
    const { total, buckets, fns } = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled`);
    const show = (m: Map<string, number>) => {
      for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        console.log(
          `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1e6).toFixed(2).padStart(6)} s  ${k}`,
        );
      }
    };
    console.log(' by package / file:');
    show(buckets);
    console.log(' by function:');
    show(fns);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
