// `bun run bench`: starts the parley server, the raw baseline relay
// (bench/baseline.ts, over WebSocket bench/baseline-ws.ts) and the load
// generator (bench/generator.ts) each as its own process, runs every scenario
// against both targets in the same run, and prints a table with parley's
// figures as ratios to the baseline; parley over TLS is compared with itself
// over plain TCP too, the attack scenario with itself quiet and flooded by
// bench/attacker.ts, the accounts scenario with itself without accounts, and
// the cluster scenario's cross-node runs with same-node and with bare NATS
// request/reply (bench/cluster.ts).
// Server CPU comes from /proc/<pid>/stat, the generator's from its own process.cpuUsage().
//
//   bun bench/run.ts [--scenario closed,pipelined] [--duration 3] [--pairs 1,10,100] ...
//   bun bench/run.ts --help

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runCluster } from "./cluster.ts";
import { benchPassword, Fixtures } from "./fixtures.ts";
import type { GeneratorConfig, Target } from "./load.ts";
import { parseOptions, type Options, type Scenario, type Transport } from "./options.ts";
import { runLoad, runScale } from "./measure.ts";
import { natsServerPath } from "./nats-server.ts";
import { plans, type Plan } from "./plans.ts";
import { describeMachine, machineLine } from "./proc.ts";
import { startRelay, stopProcess, type Relay } from "./processes.ts";
import { failedRow, table, type Results, type Row } from "./report.ts";

const root = path.resolve(import.meta.dir, "..");

function log(options: Options, line: string): void {
  if (!options.quiet) process.stderr.write(`bench: ${line}\n`);
}

// ---------------------------------------------------------------------------
// Runs

async function runOne(plan: Plan, target: Target, repeat: number, options: Options, fixtures: Fixtures): Promise<Row> {
  log(options, `${plan.label} ${target}${options.repeat > 1 ? ` #${repeat}` : ""}`);
  const transport: Transport = plan.transport ?? "tcp";
  const head = { scenario: plan.scenario, label: plan.label, target, transport, repeat };
  const profileName = `${plan.label.replace(/[^A-Za-z0-9=]+/g, "-")}-r${repeat}`;
  let relay: Relay | undefined;
  try {
    // Plain TCP stays on beside TLS: the server is as users start it, and the generator uses one port.
    const tls = transport === "tls" ? fixtures.tls() : undefined;
    const accounts = plan.accounts ? await fixtures.accountsFile(plan.users!) : undefined;
    const serverArgs = [...(tls ? ["--tls-cert", tls.certPath, "--tls-key", tls.keyPath, "--tls-port", "0"] : []), ...(accounts ? ["--accounts", accounts] : [])];
    relay = await startRelay(target, transport, plan.limits, options.parleyDir, options.cpuProf === undefined ? undefined : { dir: options.cpuProf, name: profileName }, serverArgs);
    const port = tls ? relay.tlsPort! : transport === "ws" && target === "parley" ? relay.httpPort! : relay.port;
    // Passwords go over plain TCP: the server trusts loopback's (--trust-plaintext-passwords-from), and the accounts runs measure the check, not TLS.
    const config: GeneratorConfig = { ...plan.config, target, port, ...(tls ? { tls: { ca: tls.ca } } : {}), ...(transport === "ws" ? { websocket: true } : {}), ...(accounts ? { password: benchPassword } : {}) };
    const measured = plan.config.kind === "scale" ? await runScale(plan, config, relay, options) : await runLoad(plan, config, relay);
    return { ...head, ...measured };
  } catch (error) {
    return failedRow(head, error);
  } finally {
    if (relay !== undefined) await stopProcess(relay.proc);
  }
}

/** The raw relay a transport is measured against: TLS against plain TCP's, as there is no raw TLS relay. */
const baselineOf = (transport: Transport): Transport => (transport === "ws" ? "ws" : "tcp");

/**
 * Every target in turn against the same load: in closed and pipelined for
 * each of --transport, right after the raw relay of its kind (the TCP one,
 * run once, for tcp and tls; bench/baseline-ws.ts for ws), elsewhere over
 * plain TCP. parley's rows get their ratio to that raw relay's row, and a TLS
 * row its ratios to the plain parley row.
 */
async function runTargets(plan: Plan, repeat: number, options: Options, fixtures: Fixtures): Promise<Row[]> {
  const rows: Row[] = [];
  const transports = plan.scenario === "closed" || plan.scenario === "pipelined" ? options.transports : (["tcp"] as const);
  for (const transport of transports) {
    for (const target of options.targets) {
      const runs = target === "raw" ? baselineOf(transport) : transport;
      if (target === "raw" && rows.some((row) => row.target === "raw" && row.transport === runs)) continue;
      rows.push(await runOne(runs === "tcp" ? plan : { ...plan, label: `${plan.label} ${runs}`, transport: runs }, target, repeat, options, fixtures));
    }
  }
  const tcp = rows.find((row) => row.target === "parley" && row.transport === "tcp");
  for (const parley of rows.filter((row) => row.target === "parley")) {
    const raw = rows.find((row) => row.target === "raw" && row.transport === baselineOf(parley.transport));
    if (raw !== undefined && raw.txPerSec > 0) {
      parley.ratio = parley.txPerSec / raw.txPerSec;
      parley.rawServerMicrosPerTx = raw.serverMicrosPerTx;
    }
    if (parley.transport === "tls" && tcp !== undefined && tcp.txPerSec > 0) {
      parley.tcpTxRatio = parley.txPerSec / tcp.txPerSec;
      parley.tcpMicrosRatio = parley.serverMicrosPerTx / tcp.serverMicrosPerTx;
    }
  }
  return rows;
}

/** The same honest load against two fresh servers back to back, quiet then flooded; the flooded row gets its ratios to the quiet one. */
async function runAttack(plan: Plan, repeat: number, options: Options, fixtures: Fixtures): Promise<Row[]> {
  const quiet = await runOne({ ...plan, label: `${plan.label} quiet` }, "parley", repeat, options, fixtures);
  const flooded = await runOne({ ...plan, label: `${plan.label} flooded`, attacker: true }, "parley", repeat, options, fixtures);
  if (quiet.txPerSec > 0 && quiet.p99Ms && flooded.p99Ms !== null) {
    flooded.quietTxRatio = flooded.txPerSec / quiet.txPerSec;
    flooded.quietP99Ratio = flooded.p99Ms / quiet.p99Ms;
  }
  return [quiet, flooded];
}

/**
 * The same U users registered on two fresh servers back to back, without
 * accounts then with an account each; the second row gets its ratios to the
 * first and the bound that one password check at a time sets.
 */
async function runAccounts(plan: Plan, repeat: number, options: Options, fixtures: Fixtures): Promise<Row[]> {
  const without = await runOne({ ...plan, label: `${plan.label} without` }, "parley", repeat, options, fixtures);
  const withAccounts = await runOne({ ...plan, label: `${plan.label} with`, accounts: true }, "parley", repeat, options, fixtures);
  if (withAccounts.error === undefined) {
    withAccounts.checkCpuMs = await fixtures.checkCpuMs();
    if (without.txPerSec > 0) {
      withAccounts.withoutTxRatio = withAccounts.txPerSec / without.txPerSec;
      // A short run without accounts may take under one 10 ms CPU tick: then there is no ratio to give.
      if (without.serverMicrosPerTx > 0) withAccounts.withoutMicrosRatio = withAccounts.serverMicrosPerTx / without.serverMicrosPerTx;
    }
  }
  return [without, withAccounts];
}

const pairings: Record<Scenario, typeof runTargets> = {
  closed: runTargets,
  pipelined: runTargets,
  broadcast: runTargets,
  scale: runTargets,
  large: runTargets,
  attack: runAttack,
  accounts: runAccounts,
  cluster: (plan, repeat, options) => runCluster(plan, repeat, options, (line) => log(options, line)),
};

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
  const fixtures = new Fixtures();
  const planned = plans(options);
  // Without nats-server the cluster's runs cannot start: say so once, and run the rest.
  const runnable = natsServerPath() === undefined ? planned.filter((plan) => plan.scenario !== "cluster") : planned;
  if (runnable.length < planned.length) process.stderr.write("bench: cluster: skipped, nats-server is not installed (apt-get install nats-server)\n");
  try {
    for (const plan of runnable) {
      for (let repeat = 1; repeat <= options.repeat; repeat++) rows.push(...(await pairings[plan.scenario](plan, repeat, options, fixtures)));
    }
  } finally {
    fixtures.remove();
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
