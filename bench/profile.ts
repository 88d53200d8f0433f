// Summarises a `bun --cpu-prof` profile (Chrome .cpuprofile JSON): functions by
// self time and by total time, so a hot path reads off in a few lines.
//
//   bun bench/profile.ts bench/profiles/<name>.cpuprofile [--top 25]

import { readFileSync } from "node:fs";
import path from "node:path";

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

type Entry = { name: string; self: number; total: number };

const root = path.resolve(import.meta.dir, "..");

function frameName(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  if (frame.url === "") return name;
  const file = frame.url.startsWith(root) ? path.relative(root, frame.url) : frame.url.replace(/^file:\/\//, "");
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

export function summarise(profile: Profile): { entries: Entry[]; sampledMs: number; wallMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const entries = new Map<string, Entry>();
  const entry = (name: string): Entry => {
    let found = entries.get(name);
    if (found === undefined) entries.set(name, (found = { name, self: 0, total: 0 }));
    return found;
  };
  // Every sample weighs the same. Bun samples only while JavaScript (or a native
  // function it called) runs, so a time delta may include time spent idle in the
  // event loop, and weighting by it would charge idleness to the next sample.
  const intervalMs = profile.samples.length > 0 ? (profile.endTime - profile.startTime) / 1000 / profile.samples.length : 0;
  const ms = Math.min(intervalMs, 1);
  let sampledMs = 0;
  profile.samples.forEach((id) => {
    sampledMs += ms;
    entry(frameName(byId.get(id)!.callFrame)).self += ms;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = frameName(byId.get(at)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      entry(name).total += ms;
    }
  });
  return { entries: [...entries.values()], sampledMs, wallMs: (profile.endTime - profile.startTime) / 1000 };
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: bun bench/profile.ts <file.cpuprofile> [--top N]");
  const topAt = process.argv.indexOf("--top");
  const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
  const { entries, sampledMs, wallMs } = summarise(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const pct = (ms: number) => `${((ms / sampledMs) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${path.basename(file)}: ${entries.find((e) => e.name === "(root)")?.total.toFixed(0)} ms in samples (at most 1 ms each) over ${wallMs.toFixed(0)} ms; % of samples`, "", "by self time:"];
  for (const e of [...entries].sort((a, b) => b.self - a.self).slice(0, top)) lines.push(`  ${pct(e.self)} ${e.self.toFixed(0).padStart(6)} ms  ${e.name}`);
  lines.push("", "by total time:");
  for (const e of [...entries].sort((a, b) => b.total - a.total).slice(0, top)) lines.push(`  ${pct(e.total)} ${e.total.toFixed(0).padStart(6)} ms  ${e.name}`);
  process.stdout.write(lines.join("\n") + "\n");
}

if (import.meta.main) main();
