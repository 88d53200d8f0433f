// `bun run bench`: starts the parley server, the raw baseline relay
// (bench/baseline.ts) and the load generator (bench/generator.ts) each as its
// own process, runs every scenario against both targets in the same run, and
// prints a table with parley's figures as ratios to the baseline. Server CPU
// comes from /proc/<pid>/stat, the generator's from its own process.cpuUsage().
//
//   bun bench/run.ts [--scenario closed,pipelined] [--duration 3] [--pairs 1,10,100] ...
//   bun bench/run.ts --help

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { GeneratorConfig, Target } from "./load.ts";
import { parseOptions, type Options } from "./options.ts";
import { plans, serverFdReserve, type Plan } from "./plans.ts";
import { childFdLimit, cpuSeconds, describeMachine, machineLine, openFds, rssKiB } from "./proc.ts";
import { nextEvent, startGenerator, startRelay, stopProcess, withDeadline, type Generator, type Relay } from "./processes.ts";
import { table, type Results, type Row } from "./report.ts";

const root = path.resolve(import.meta.dir, "..");

function log(options: Options, line: string): void {
  if (!options.quiet) process.stderr.write(`bench: ${line}\n`);
}

// ---------------------------------------------------------------------------
// Runs

const ms = (micros: number): number => Math.round(micros) / 1000;

async function runLoad(plan: Plan, target: Target, relay: Relay): Promise<Omit<Row, "repeat" | "scenario" | "label" | "target">> {
  const config: GeneratorConfig = { ...plan.config, target, port: relay.port };
  const generator = startGenerator(config);
  const pid = relay.proc.pid;
  try {
    const setupDeadline = 60_000;
    let event = await nextEvent(generator, setupDeadline);
    if (event.event !== "ready") throw new Error(`expected ready, got ${event.event}`);
    event = await nextEvent(generator, config.warmupMs + 10_000);
    if (event.event !== "start") throw new Error(`expected start, got ${event.event}`);
    const cpuStart = cpuSeconds(pid);
    const wallStart = performance.now();
    event = await nextEvent(generator, config.durationMs + 10_000);
    if (event.event !== "stop") throw new Error(`expected stop, got ${event.event}`);
    const serverCpu = cpuSeconds(pid) - cpuStart;
    const wall = (performance.now() - wallStart) / 1000;
    event = await nextEvent(generator, config.drainMs + 10_000);
    if (event.event !== "result") throw new Error(`expected result, got ${event.event}`);
    const latency = event.latencyMicros;
    const txPerSec = event.completed / (event.windowMs / 1000);
    return {
      txPerSec,
      p50Ms: ms(latency.p50),
      p99Ms: ms(latency.p99),
      p999Ms: ms(latency.p999),
      serverCpuPct: (serverCpu / wall) * 100,
      generatorCpuPct: (event.cpuMicros / 1000 / event.windowMs) * 100,
      serverMicrosPerTx: ((serverCpu / wall) * 1e6) / txPerSec,
      completed: event.completed,
      errors: event.errors,
      ...(plan.config.body >= 4096 ? { mbPerSec: (txPerSec * plan.config.body) / 1e6 } : {}),
      ...(event.abandoned > 0 ? { note: `${event.abandoned} round trips still in flight after the drain` } : {}),
    };
  } finally {
    await stopProcess(generator.proc);
  }
}

async function runScale(plan: Plan, target: Target, relay: Relay, options: Options): Promise<Omit<Row, "repeat" | "scenario" | "label" | "target">> {
  const users = plan.users!;
  const pid = relay.proc.pid;
  await Bun.sleep(300);
  const rssBeforeKiB = rssKiB(pid);
  // Each generator process stays under the fd limit too.
  const perProcess = Math.floor((childFdLimit - serverFdReserve) / plan.config.connectionsPerUser);
  const processes = Math.ceil(users / perProcess);
  const generators: Generator[] = [];
  const cpuStart = cpuSeconds(pid);
  const wallStart = performance.now();
  try {
    for (let i = 0; i < processes; i++) {
      const offset = i * perProcess;
      const count = Math.min(perProcess, users - offset);
      const concurrency = Math.max(1, Math.round(plan.config.concurrency / processes));
      generators.push(startGenerator({ ...plan.config, target, port: relay.port, users: count, userOffset: offset, concurrency }));
    }
    const registered = await Promise.all(
      generators.map(async (generator) => {
        const event = await nextEvent(generator, 120_000);
        if (event.event !== "registered") throw new Error(`expected registered, got ${event.event}`);
        return event;
      }),
    );
    const serverCpu = cpuSeconds(pid) - cpuStart;
    const wall = (performance.now() - wallStart) / 1000;
    await Bun.sleep(options.settleMs);
    const rssAfterKiB = rssKiB(pid);
    const serverFds = openFds(pid);
    const start = Math.min(...registered.map((event) => event.startEpochMs));
    const end = Math.max(...registered.map((event) => event.endEpochMs));
    const generatorCpu = registered.reduce((sum, event) => sum + event.cpuMicros, 0) / 1e6;
    return {
      txPerSec: users / ((end - start) / 1000),
      serverMicrosPerTx: (serverCpu * 1e6) / users,
      p50Ms: null,
      p99Ms: null,
      p999Ms: null,
      serverCpuPct: (serverCpu / wall) * 100,
      generatorCpuPct: (generatorCpu / ((end - start) / 1000)) * 100,
      completed: users,
      errors: 0,
      rssBeforeKiB,
      rssAfterKiB,
      rssPerUserKiB: (rssAfterKiB - rssBeforeKiB) / users,
      serverFds,
      generatorProcesses: processes,
      ...(plan.note ? { note: plan.note } : {}),
    };
  } finally {
    for (const generator of generators) generator.proc.stdin.end();
    await Promise.all(generators.map((generator) => withDeadline(generator.proc.exited, 10_000, "generator exit").catch(() => stopProcess(generator.proc))));
  }
}

async function runOne(plan: Plan, target: Target, repeat: number, options: Options): Promise<Row> {
  const head = { scenario: plan.scenario, label: plan.label, target, repeat };
  const profileName = `${plan.label.replace(/[^A-Za-z0-9=]+/g, "-")}-r${repeat}`;
  let relay: Relay | undefined;
  try {
    relay = await startRelay(target, plan.limits, options.parleyDir, options.cpuProf === undefined ? undefined : { dir: options.cpuProf, name: profileName });
    const measured = plan.scenario === "scale" ? await runScale(plan, target, relay, options) : await runLoad(plan, target, relay);
    return { ...head, ...measured };
  } catch (error) {
    const text = (error as Error).message;
    return { ...head, txPerSec: NaN, p50Ms: null, p99Ms: null, p999Ms: null, serverCpuPct: NaN, generatorCpuPct: NaN, serverMicrosPerTx: NaN, completed: 0, errors: 0, error: text };
  } finally {
    if (relay !== undefined) await stopProcess(relay.proc);
  }
}

/** The commit of the parley tree measured, and whether its src/ had uncommitted changes (others edit it while the bench runs). */
function revision(dir: string): string {
  const git = (...args: string[]) => Bun.spawnSync(["git", ...args], { cwd: dir }).stdout.toString().trim();
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  const state = git("status", "--porcelain", "--", "src") === "" ? head : `${head}+dirty-src`;
  return dir === root ? state : `${state} (${dir})`;
}

// ---------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  log(options, machineLine(machine));
  const rows: Row[] = [];
  for (const plan of plans(options)) {
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      const byTarget = new Map<Target, Row>();
      for (const target of options.targets) {
        log(options, `${plan.label} ${target}${options.repeat > 1 ? ` #${repeat}` : ""}`);
        const row = await runOne(plan, target, repeat, options);
        byTarget.set(target, row);
        rows.push(row);
      }
      const raw = byTarget.get("raw");
      const parley = byTarget.get("parley");
      if (raw !== undefined && parley !== undefined && raw.txPerSec > 0) {
        parley.ratio = parley.txPerSec / raw.txPerSec;
        parley.rawServerMicrosPerTx = raw.serverMicrosPerTx;
      }
    }
  }
  const results: Results = { machine, machineLine: machineLine(machine), revision: revision(options.parleyDir), startedAt, finishedAt: new Date().toISOString(), options, rows };
  const out = options.jsonOut ?? path.join(root, "bench", "results", `${startedAt.replace(/[:.]/g, "-")}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(`\nmachine: ${machineLine(machine)}\nrevision: ${results.revision}\n\n${table(rows)}\n\nresults: ${path.relative(process.cwd(), out)}\n`);
  process.exit(rows.some((row) => row.error !== undefined) ? 1 : 0);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
