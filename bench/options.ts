// bench/run.ts's flags: every parameter of every scenario, with its default.

import { existsSync } from "node:fs";
import path from "node:path";
import type { Target } from "./load.ts";

export const Scenarios = ["closed", "pipelined", "broadcast", "scale", "large", "attack", "accounts", "cluster"] as const;
export type Scenario = (typeof Scenarios)[number];
// The cluster scenario (~2 min here, bench/README.md) would take the default run well past three minutes: asked for by name.
const defaultScenarios: readonly Scenario[] = Scenarios.filter((scenario) => scenario !== "cluster");

/**
 * How the generator reaches parley in the closed and pipelined scenarios:
 * plain TCP, TLS (compared with the raw TCP relay too) or WebSocket (compared
 * with a raw WebSocket relay, bench/baseline-ws.ts).
 */
export const Transports = ["tcp", "tls", "ws"] as const;
export type Transport = (typeof Transports)[number];
// Plain TCP only by default: TLS adds six parley runs, ~30 s, which took the default run past three minutes (bench/README.md).
const defaultTransports: readonly Transport[] = ["tcp"];

export type Options = {
  scenarios: Scenario[];
  targets: Target[];
  transports: Transport[];
  durationMs: number;
  broadcastDurationMs: number;
  warmupMs: number;
  pairs: number[];
  inflight: number;
  body: number;
  receivers: number[];
  users: number[];
  accountUsers: number[];
  clusterReceivers: number[];
  largeBodies: number[];
  concurrency: number;
  decoder: "cached" | "project";
  settleMs: number;
  repeat: number;
  jsonOut: string | undefined;
  cpuProf: string | undefined;
  /** The source tree whose `src/cli.ts server` is measured: this repo by default, another checkout to compare a change with its base. */
  parleyDir: string;
  quiet: boolean;
};

const flagHelp: Record<string, string> = {
  scenario: `scenarios to run, comma-separated: ${Scenarios.join(",")} (default: all but cluster, which needs nats-server)`,
  targets: "targets, comma-separated: raw,parley (default: both; the ratio needs both)",
  transport: `closed and pipelined: parley over tcp, tls, ws (WebSocket, against a raw WebSocket relay) or several (tcp,ws), back to back (default ${defaultTransports.join(",")})`,
  duration: "measured window per run, seconds (default 3)",
  "broadcast-duration": "measured window of a broadcast run, seconds: one SEND ALL at a time gives few samples per second (default 10)",
  warmup: "load before the window, seconds (default 0.5)",
  pairs: "closed, pipelined and cluster: sender/receiver pairs, comma-separated; attack: the first value (default 1,10,100)",
  inflight: "pipelined, large and cluster pipelined: SENDs in flight per sender (default 32)",
  body: "body bytes for closed, pipelined and broadcast (default 64)",
  receivers: "broadcast: receivers, comma-separated (default 100,1000)",
  users: "scale: users to register, comma-separated (default 1000,10000)",
  "cluster-receivers": "cluster: broadcast receivers, on one node and spread over three, comma-separated (default 1000)",
  "account-users": "accounts: users to register, without and with accounts, comma-separated (default 200)",
  "large-bodies": "large: body bytes, comma-separated (default 16384,65536)",
  concurrency: "users registering at once (default 64)",
  decoder: "generator header decoding: cached (known header blocks recognised by their bytes, the rest through decodeServerHead) or project (all through decodeServerHead) (default cached)",
  settle: "scale: seconds to wait after registration before reading RSS (default 1)",
  repeat: "run every measurement this many times, raw and parley alternating (default 1)",
  "json-out": "where to write the JSON results (default bench/results/<timestamp>.json)",
  "cpu-prof": "directory: run the parley server (in cluster runs, each node) under `bun --cpu-prof` and write one profile per run (per node) there",
  "parley-dir": "measure the parley server of another source tree: runs DIR/src/cli.ts server from DIR; the harness, generator and raw relay stay this tree's (default: this repo)",
  quiet: "no progress lines on stderr",
  help: "show this help",
};

function list(text: string): number[] {
  const values = text.split(",").map(Number);
  if (values.some((value) => !Number.isFinite(value) || value <= 0)) throw new Error(`expected positive numbers, got ${JSON.stringify(text)}`);
  return values;
}

export function parseOptions(args: string[]): Options {
  const options: Options = {
    scenarios: [...defaultScenarios],
    targets: ["raw", "parley"],
    transports: [...defaultTransports],
    durationMs: 3000,
    broadcastDurationMs: 10_000,
    warmupMs: 500,
    pairs: [1, 10, 100],
    inflight: 32,
    body: 64,
    receivers: [100, 1000],
    users: [1000, 10000],
    accountUsers: [200],
    clusterReceivers: [1000],
    largeBodies: [16384, 65536],
    concurrency: 64,
    decoder: "cached",
    settleMs: 1000,
    repeat: 1,
    jsonOut: undefined,
    cpuProf: undefined,
    parleyDir: path.resolve(import.meta.dir, ".."),
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
      case "transport": {
        const transports = value.split(",");
        const bad = transports.find((transport) => !(Transports as readonly string[]).includes(transport));
        if (bad !== undefined) throw new Error(`--transport: unknown transport ${JSON.stringify(bad)}; expected ${Transports.join(", ")}, comma-separated`);
        options.transports = transports as Transport[];
        break;
      }
      case "duration":
        options.durationMs = list(value)[0]! * 1000;
        break;
      case "broadcast-duration":
        options.broadcastDurationMs = list(value)[0]! * 1000;
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
      case "account-users":
        options.accountUsers = list(value);
        break;
      case "cluster-receivers":
        options.clusterReceivers = list(value);
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
      case "parley-dir":
        options.parleyDir = path.resolve(value);
        if (!existsSync(path.join(options.parleyDir, "src", "cli.ts"))) throw new Error(`--parley-dir: no src/cli.ts in ${options.parleyDir}`);
        break;
    }
  }
  if (!(options.warmupMs >= 0) || !(options.body >= 0) || !(options.settleMs >= 0)) throw new Error("--warmup, --body and --settle must be non-negative numbers");
  return options;
}
