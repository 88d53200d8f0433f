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
import type { Subprocess } from "bun";
import type { GeneratorConfig, GeneratorEvent, Target } from "./generator.ts";
import { childFdLimit, cpuSeconds, describeMachine, machineLine, openFds, rssKiB, withRaisedFdLimit, type Machine } from "./proc.ts";

const root = path.resolve(import.meta.dir, "..");
const bun = process.execPath;

// ---------------------------------------------------------------------------
// Flags

const Scenarios = ["closed", "pipelined", "broadcast", "scale", "large"] as const;
type Scenario = (typeof Scenarios)[number];

type Options = {
  scenarios: Scenario[];
  targets: Target[];
  durationMs: number;
  warmupMs: number;
  pairs: number[];
  inflight: number;
  body: number;
  receivers: number[];
  users: number[];
  largeBodies: number[];
  concurrency: number;
  decoder: "cached" | "project";
  settleMs: number;
  repeat: number;
  jsonOut: string | undefined;
  cpuProf: string | undefined;
  quiet: boolean;
};

const flagHelp: Record<string, string> = {
  scenario: `scenarios to run, comma-separated: ${Scenarios.join(",")} (default: all)`,
  targets: "targets, comma-separated: raw,parley (default: both; the ratio needs both)",
  duration: "measured window per run, seconds (default 3)",
  warmup: "load before the window, seconds (default 0.5)",
  pairs: "closed and pipelined: sender/receiver pairs, comma-separated (default 1,10,100)",
  inflight: "pipelined and large: SENDs in flight per sender (default 32)",
  body: "body bytes for closed, pipelined and broadcast (default 64)",
  receivers: "broadcast: receivers, comma-separated (default 100,1000)",
  users: "scale: users to register, comma-separated (default 1000,10000)",
  "large-bodies": "large: body bytes, comma-separated (default 16384,65536)",
  concurrency: "users registering at once (default 64)",
  decoder: "generator header decoding: cached (known header blocks recognised by their bytes, the rest through decodeServerHead) or project (all through decodeServerHead) (default cached)",
  settle: "scale: seconds to wait after registration before reading RSS (default 1)",
  repeat: "run every measurement this many times, raw and parley alternating (default 1)",
  "json-out": "where to write the JSON results (default bench/results/<timestamp>.json)",
  "cpu-prof": "directory: run the parley server under `bun --cpu-prof` and write one profile per run there",
  quiet: "no progress lines on stderr",
  help: "show this help",
};

function list(text: string): number[] {
  const values = text.split(",").map(Number);
  if (values.some((value) => !Number.isFinite(value) || value <= 0)) throw new Error(`expected positive numbers, got ${JSON.stringify(text)}`);
  return values;
}

function parseOptions(args: string[]): Options {
  const options: Options = {
    scenarios: [...Scenarios],
    targets: ["raw", "parley"],
    durationMs: 3000,
    warmupMs: 500,
    pairs: [1, 10, 100],
    inflight: 32,
    body: 64,
    receivers: [100, 1000],
    users: [1000, 10000],
    largeBodies: [16384, 65536],
    concurrency: 64,
    decoder: "cached",
    settleMs: 1000,
    repeat: 1,
    jsonOut: undefined,
    cpuProf: undefined,
    quiet: false,
  };
  for (let i = 0; i < args.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(args[i]!);
    const name = match?.[1];
    if (name === undefined || !(name in flagHelp)) throw new Error(`unknown argument ${JSON.stringify(args[i])}`);
    if (name === "help" || name === "quiet") {
      if (name === "help") {
        process.stdout.write(`Usage: bun bench/run.ts [flags]\n\n${Object.entries(flagHelp).map(([flag, help]) => `  --${flag.padEnd(14)} ${help}`).join("\n")}\n`);
        process.exit(0);
      }
      options.quiet = true;
      continue;
    }
    const value = match![2] ?? args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    switch (name) {
      case "scenario": {
        const names = value.split(",");
        const bad = names.find((scenario) => !(Scenarios as readonly string[]).includes(scenario));
        if (bad !== undefined) throw new Error(`unknown scenario ${JSON.stringify(bad)}; expected ${Scenarios.join(", ")}`);
        options.scenarios = names as Scenario[];
        break;
      }
      case "targets": {
        const targets = value.split(",");
        if (targets.some((target) => target !== "raw" && target !== "parley")) throw new Error(`--targets: expected raw,parley`);
        options.targets = targets as Target[];
        break;
      }
      case "duration":
        options.durationMs = list(value)[0]! * 1000;
        break;
      case "warmup":
        options.warmupMs = Number(value) * 1000;
        break;
      case "pairs":
        options.pairs = list(value);
        break;
      case "inflight":
        options.inflight = list(value)[0]!;
        break;
      case "body":
        options.body = Number(value);
        break;
      case "receivers":
        options.receivers = list(value);
        break;
      case "users":
        options.users = list(value);
        break;
      case "large-bodies":
        options.largeBodies = list(value);
        break;
      case "concurrency":
        options.concurrency = list(value)[0]!;
        break;
      case "decoder":
        if (value !== "cached" && value !== "project") throw new Error("--decoder: expected cached or project");
        options.decoder = value;
        break;
      case "settle":
        options.settleMs = Number(value) * 1000;
        break;
      case "repeat":
        options.repeat = list(value)[0]!;
        break;
      case "json-out":
        options.jsonOut = value;
        break;
      case "cpu-prof":
        options.cpuProf = path.resolve(value);
        break;
    }
  }
  if (!(options.warmupMs >= 0) || !(options.body >= 0) || !(options.settleMs >= 0)) throw new Error("--warmup, --body and --settle must be non-negative numbers");
  return options;
}

// ---------------------------------------------------------------------------
// Processes

function log(options: Options, line: string): void {
  if (!options.quiet) process.stderr.write(`bench: ${line}\n`);
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered.length > 0) onLine(buffered);
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

type Relay = { proc: Subprocess<"ignore", "ignore", "pipe">; port: number; tail: string[] };

type ServerLimits = { maxPendingForwards?: number; maxBodyBytes?: number; maxQueuedBytes?: number };

/** Starts parley (`bun src/cli.ts server --port 0`) or the baseline; resolves once it logged its port. */
async function startRelay(target: Target, limits: ServerLimits, profileName: string | undefined, options: Options): Promise<Relay> {
  let argv: string[];
  if (target === "raw") {
    argv = [bun, "bench/baseline.ts", "--port", "0"];
  } else {
    const profile = options.cpuProf !== undefined && profileName !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProf}`, `--cpu-prof-name=${profileName}.cpuprofile`] : [];
    const limitFlags = Object.entries(limits).flatMap(([name, value]) => [`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value)]);
    argv = [bun, ...profile, "src/cli.ts", "server", "--port", "0", "--log-level", "info", ...limitFlags];
  }
  const proc = Bun.spawn(withRaisedFdLimit(argv), { cwd: root, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const tail: string[] = [];
  const { promise: listening, resolve, reject } = Promise.withResolvers<number>();
  // Keep reading stderr for the whole run: a full pipe would block the server's log writes.
  void readLines(proc.stderr, (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const match = /\.listening .*port=(\d+)/.exec(line);
    if (match) resolve(Number(match[1]));
  });
  // Settling an already-resolved promise is a no-op, so a later exit is not an error here.
  void proc.exited.then((code) => reject(new Error(`${target} exited with ${code} before listening: ${tail.join(" | ")}`)));
  const port = await withDeadline(listening, 15_000, `${target} start`);
  return { proc, port, tail };
}

async function stopProcess(proc: Subprocess<"ignore" | "pipe", "ignore" | "pipe", "pipe">): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  try {
    await withDeadline(proc.exited, 8000, "stop");
  } catch {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

type Generator = { proc: Subprocess<"pipe", "pipe", "pipe">; events: AsyncIterator<GeneratorEvent>; stderr: string[] };

function startGenerator(config: GeneratorConfig): Generator {
  const proc = Bun.spawn(withRaisedFdLimit([bun, "bench/generator.ts", JSON.stringify(config)]), { cwd: root, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const stderr: string[] = [];
  void readLines(proc.stderr, (line) => {
    stderr.push(line);
    if (stderr.length > 20) stderr.shift();
  });
  const queue: GeneratorEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  void readLines(proc.stdout, (line) => {
    if (line.trim() === "") return;
    queue.push(JSON.parse(line) as GeneratorEvent);
    wake?.();
  }).finally(() => {
    ended = true;
    wake?.();
  });
  const events: AsyncIterator<GeneratorEvent> = {
    async next() {
      while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      const event = queue.shift();
      return event === undefined ? { done: true, value: undefined } : { done: false, value: event };
    },
  };
  return { proc, events, stderr };
}

/** The next event from a generator; a failure or an early exit becomes an error with its stderr. */
async function nextEvent(generator: Generator, deadlineMs: number): Promise<GeneratorEvent> {
  const next = await withDeadline(generator.events.next(), deadlineMs, "generator");
  if (next.done) {
    const code = await generator.proc.exited;
    throw new Error(`generator exited with ${code}: ${generator.stderr.join(" | ")}`);
  }
  if (next.value.event === "failed") throw new Error(`generator failed: ${next.value.error}`);
  return next.value;
}

// ---------------------------------------------------------------------------
// Runs

type Row = {
  scenario: Scenario;
  label: string;
  target: Target;
  repeat: number;
  txPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  serverCpuPct: number;
  generatorCpuPct: number;
  completed: number;
  errors: number;
  /** parley only: its tx/s over the raw relay's in the same repeat. */
  ratio?: number;
  mbPerSec?: number;
  rssPerUserKiB?: number;
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  serverFds?: number;
  generatorProcesses?: number;
  note?: string;
  error?: string;
};

type Plan = {
  scenario: Scenario;
  label: string;
  config: Omit<GeneratorConfig, "target" | "port">;
  limits: ServerLimits;
  /** scale runs: users in this run and connections per user. */
  users?: number;
  note?: string;
};

function baseConfig(options: Options): Omit<GeneratorConfig, "target" | "port"> {
  return {
    kind: "unicast",
    pairs: 1,
    inflight: 1,
    body: options.body,
    receivers: 0,
    users: 0,
    userOffset: 0,
    connectionsPerUser: 2,
    concurrency: options.concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    drainMs: 3000,
    decoder: options.decoder,
    deadlineMs: options.warmupMs + options.durationMs + 120_000,
  };
}

// The server's own fds besides client sockets (listener, epoll, stdio, ...), plus a margin.
const serverFdReserve = 64;

function plans(options: Options): Plan[] {
  const base = baseConfig(options);
  const out: Plan[] = [];
  for (const scenario of options.scenarios) {
    switch (scenario) {
      case "closed":
        for (const pairs of options.pairs) out.push({ scenario, label: `closed N=${pairs}`, config: { ...base, pairs, inflight: 1 }, limits: {} });
        break;
      case "pipelined":
        for (const pairs of options.pairs) {
          out.push({
            scenario,
            label: `pipelined N=${pairs} x${options.inflight}`,
            config: { ...base, pairs, inflight: options.inflight },
            limits: options.inflight > 1024 ? { maxPendingForwards: options.inflight } : {},
          });
        }
        break;
      case "broadcast":
        for (const receivers of options.receivers) {
          out.push({ scenario, label: `broadcast M=${receivers}`, config: { ...base, kind: "broadcast", receivers, inflight: 1 }, limits: {} });
        }
        break;
      case "scale":
        for (const users of options.users) {
          // Two connections per user: the server holds 2U sockets. If the fd limit cannot
          // be raised that far, run as many users as fit, and U users on one connection each.
          const fit = Math.floor((childFdLimit - serverFdReserve) / 2);
          const scale = { ...base, kind: "scale" as const, durationMs: 0, warmupMs: 0 };
          if (users <= fit) {
            out.push({ scenario, label: `scale U=${users}`, config: { ...scale, users }, limits: {}, users });
          } else {
            const note = `fd limit ${childFdLimit} fits ${fit} users with two connections`;
            out.push({ scenario, label: `scale U=${fit} (fd cap)`, config: { ...scale, users: fit }, limits: {}, users: fit, note });
            out.push({ scenario, label: `scale U=${users} 1conn`, config: { ...scale, users, connectionsPerUser: 1 }, limits: {}, users, note: "both roles on one connection" });
          }
        }
        break;
      case "large":
        for (const body of options.largeBodies) {
          out.push({
            scenario,
            label: `large ${body >= 1024 ? `${body / 1024}KiB` : `${body}B`} x${options.inflight}`,
            config: { ...base, pairs: 1, inflight: options.inflight, body },
            limits: {
              ...(body > 65536 ? { maxBodyBytes: body } : {}),
              ...(options.inflight * (body + 128) * 2 > 8 * 2 ** 20 ? { maxQueuedBytes: options.inflight * (body + 128) * 2 } : {}),
            },
          });
        }
        break;
    }
  }
  return out;
}

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
    relay = await startRelay(target, plan.limits, profileName, options);
    const measured = plan.scenario === "scale" ? await runScale(plan, target, relay, options) : await runLoad(plan, target, relay);
    return { ...head, ...measured };
  } catch (error) {
    const text = (error as Error).message;
    return { ...head, txPerSec: NaN, p50Ms: null, p99Ms: null, p999Ms: null, serverCpuPct: NaN, generatorCpuPct: NaN, completed: 0, errors: 0, error: text };
  } finally {
    if (relay !== undefined) await stopProcess(relay.proc);
  }
}

// ---------------------------------------------------------------------------
// Output

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function rate(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e4 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0);
}

function extra(row: Row): string {
  if (row.error !== undefined) return `FAILED: ${row.error.slice(0, 160)}`;
  const parts: string[] = [];
  if (row.mbPerSec !== undefined) parts.push(`${row.mbPerSec.toFixed(1)} MB/s`);
  if (row.rssPerUserKiB !== undefined) parts.push(`RSS ${row.rssPerUserKiB.toFixed(2)} KiB/user (${Math.round(row.rssBeforeKiB! / 1024)}->${Math.round(row.rssAfterKiB! / 1024)} MiB, ${row.serverFds} fds, ${row.generatorProcesses} gen)`);
  if (row.errors > 0) parts.push(`${row.errors} errors`);
  if (row.note !== undefined) parts.push(row.note);
  return parts.join("; ");
}

export function table(rows: Row[]): string {
  const header = ["scenario", "target", "tx/s", "p50 ms", "p99 ms", "p99.9 ms", "srv CPU%", "gen CPU%", "vs raw", "notes"];
  const body = rows.map((row) => [
    row.label + (rows.some((other) => other.repeat > 1) ? ` #${row.repeat}` : ""),
    row.target,
    rate(row.txPerSec),
    fixed(row.p50Ms, 3),
    fixed(row.p99Ms, 3),
    fixed(row.p999Ms, 3),
    fixed(row.serverCpuPct, 0),
    fixed(row.generatorCpuPct, 0),
    row.ratio === undefined ? "" : `${fixed(row.ratio, 2)}x`,
    extra(row),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i >= 2 && i <= 8 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(" | ")} |`;
  return [line(header), `|${widths.map((width, i) => (i >= 2 && i <= 8 ? "-".repeat(width + 1) + ":" : "-".repeat(width + 2))).join("|")}|`, ...body.map(line)].join("\n");
}

export type Results = { machine: Machine; machineLine: string; startedAt: string; finishedAt: string; options: Options; rows: Row[] };

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
      if (raw !== undefined && parley !== undefined && raw.txPerSec > 0) parley.ratio = parley.txPerSec / raw.txPerSec;
    }
  }
  const results: Results = { machine, machineLine: machineLine(machine), startedAt, finishedAt: new Date().toISOString(), options, rows };
  const out = options.jsonOut ?? path.join(root, "bench", "results", `${startedAt.replace(/[:.]/g, "-")}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(`\nmachine: ${machineLine(machine)}\n\n${table(rows)}\n\nresults: ${path.relative(process.cwd(), out)}\n`);
  process.exit(rows.some((row) => row.error !== undefined) ? 1 : 0);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
