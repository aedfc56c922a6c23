// The top costs in a V8 CPU profile of the bench's importer (`npm run bench -- --cpu-prof`, which
// prints them at the end), or of any profile: `tsx bench/benchProfile.ts <file.cpuprofile> [n]`.
// Two views of self time: by function, and by module with Node's internals and native code
// charged to the package or project file that called them (a socket write counts for whoever
// sent the request). The profiler samples wall-clock time: on a busy machine the time a process
// waits for a core lands on whatever it was doing, so read the shares, not the seconds.
import fs from 'node:fs';

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

export interface ProfileTop {
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  byFunction: { name: string; ms: number }[];
  byModule: { name: string; ms: number }[];
}

const VM_ENTRIES = new Set(['(program)', '(garbage collector)']);

/** A package's name, or the project file a frame is in (compiled under a dist directory). */
function ownerOf(url: string): string | undefined {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const project = /\/dist\/(.*)$/.exec(url);
  return project ? project[1].replace(/\.js$/, '.ts') : undefined;
}

export function profileTop(profile: CpuProfile, count = 10): ProfileTop {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  let busy = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(root)') continue;
    busy += us;
    if (!frame.url && VM_ENTRIES.has(frame.functionName)) {
      add(byFunction, frame.functionName, us);
      add(byModule, frame.functionName, us);
      continue;
    }
    const where = ownerOf(frame.url) ?? (frame.url.replace(/^node:internal\/(deps\/)?/, 'node:') || 'native');
    add(byFunction, `${frame.functionName || '(anonymous)'} (${where}${frame.url ? `:${frame.lineNumber + 1}` : ''})`, us);
    let owner: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !owner; at = parent.get(at)) owner = ownerOf(byId.get(at)!.callFrame.url);
    add(byModule, owner ?? `${where} (no caller of ours)`, us);
  }
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ name, ms: us / 1000 }));
  return { busyMs: busy / 1000, byFunction: top(byFunction), byModule: top(byModule) };
}

export function formatProfileTop(top: ProfileTop): string {
  const table = (title: string, rows: { name: string; ms: number }[]) => [
    `  ${title}`,
    ...rows.map((r, i) => `  ${String(i + 1).padStart(4)}. ${(r.ms / 1000).toFixed(2).padStart(6)} s ${((100 * r.ms) / top.busyMs).toFixed(1).padStart(5)} %  ${r.name}`),
  ];
  return [
    `CPU profile: ${(top.busyMs / 1000).toFixed(1)} s sampled busy (wall-clock samples: shares, not CPU seconds)`,
    ...table('self time by function', top.byFunction),
    ...table('self time by module (Node internals charged to their caller)', top.byModule),
    '',
  ].join('\n');
}

if (require.main === module) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/benchProfile.ts <file.cpuprofile> [n]\n');
    process.exit(2);
  }
  process.stdout.write(formatProfileTop(profileTop(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, count ? Number(count) : 10)));
}
