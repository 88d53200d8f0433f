// `bun run bench`: starts the parley server, the raw baseline relay
// (bench/baseline.ts) and the load generator (bench/generator.ts) each as its
// own process, runs every scenario against both targets in the same run, and
// prints a table with parley's figures as ratios to the baseline; the attack
// scenario compares parley with itself, quiet and flooded by bench/attacker.ts.
// Server CPU comes from /proc/<pid>/stat, the generator's from its own process.cpuUsage().
//
//   bun bench/run.ts [--scenario closed,pipelined] [--duration 3] [--pairs 1,10,100] ...
//   bun bench/run.ts --help

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { GeneratorConfig, Target } from "./load.ts";
import { parseOptions, type Options } from "./options.ts";
import { plans, serverFdReserve, type Plan } from "./plans.ts";
import { childFdLimit, cpuSeconds, describeMachine, machineLine, openFds, rssKiB } from "./proc.ts";
import { nextEvent, startAttacker, startGenerator, startRelay, stopProcess, withDeadline, type Generator, type Relay } from "./processes.ts";
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
  const setupDeadline = 60_000;
  // The attacker registers while the honest users do and floods from the end
  // of their setup (its victim exists then), so the warmup and the window
  // both see the flood.
  const attacker = plan.attacker ? startAttacker(relay.port) : undefined;
  const step = () => {
    attacker?.proc.stdin.write("\n");
    attacker?.proc.stdin.flush();
  };
  const generator = startGenerator(config);
  const pid = relay.proc.pid;
  try {
    if (attacker !== undefined && (await nextEvent(attacker, setupDeadline)).event !== "ready") throw new Error("attacker: expected ready");
    let event = await nextEvent(generator, setupDeadline);
    if (event.event !== "ready") throw new Error(`expected ready, got ${event.event}`);
    step();
    event = await nextEvent(generator, config.warmupMs + 10_000);
    if (event.event !== "start") throw new Error(`expected start, got ${event.event}`);
    step();
    const cpuStart = cpuSeconds(pid);
    // The attacker's CPU as the server's, from /proc over the same window: on a small machine it is CPU the others lack.
    const attackerCpuStart = attacker === undefined ? 0 : cpuSeconds(attacker.proc.pid);
    const wallStart = performance.now();
    event = await nextEvent(generator, config.durationMs + 10_000);
    if (event.event !== "stop") throw new Error(`expected stop, got ${event.event}`);
    const serverCpu = cpuSeconds(pid) - cpuStart;
    const attackerCpu = attacker === undefined ? 0 : cpuSeconds(attacker.proc.pid) - attackerCpuStart;
    const wall = (performance.now() - wallStart) / 1000;
    attacker?.proc.stdin.end();
    const attacked = attacker === undefined ? undefined : await nextEvent(attacker, 10_000);
    if (attacked !== undefined && attacked.event !== "attacked") throw new Error(`attacker: expected attacked, got ${attacked.event}`);
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
      ...(attacked !== undefined ? { attackerSent: attacked.sent, attackerRefused: attacked.refused, attackerCpuPct: (attackerCpu / wall) * 100 } : {}),
      ...(event.abandoned > 0 ? { note: `${event.abandoned} round trips still in flight after the drain` } : {}),
    };
  } finally {
    await stopProcess(generator.proc);
    if (attacker !== undefined) await stopProcess(attacker.proc);
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
  log(options, `${plan.label} ${target}${options.repeat > 1 ? ` #${repeat}` : ""}`);
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

/** Every target in turn against the same load; parley's row gets its ratio to the raw relay's. */
async function runTargets(plan: Plan, repeat: number, options: Options): Promise<Row[]> {
  const byTarget = new Map<Target, Row>();
  for (const target of options.targets) byTarget.set(target, await runOne(plan, target, repeat, options));
  const raw = byTarget.get("raw");
  const parley = byTarget.get("parley");
  if (raw !== undefined && parley !== undefined && raw.txPerSec > 0) {
    parley.ratio = parley.txPerSec / raw.txPerSec;
    parley.rawServerMicrosPerTx = raw.serverMicrosPerTx;
  }
  return [...byTarget.values()];
}

/** The same honest load against two fresh servers back to back, quiet then flooded; the flooded row gets its ratios to the quiet one. */
async function runAttack(plan: Plan, repeat: number, options: Options): Promise<Row[]> {
  const quiet = await runOne({ ...plan, label: `${plan.label} quiet` }, "parley", repeat, options);
  const flooded = await runOne({ ...plan, label: `${plan.label} flooded`, attacker: true }, "parley", repeat, options);
  if (quiet.txPerSec > 0 && quiet.p99Ms && flooded.p99Ms !== null) {
    flooded.quietTxRatio = flooded.txPerSec / quiet.txPerSec;
    flooded.quietP99Ratio = flooded.p99Ms / quiet.p99Ms;
  }
  return [quiet, flooded];
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
      rows.push(...(await (plan.scenario === "attack" ? runAttack : runTargets)(plan, repeat, options)));
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
