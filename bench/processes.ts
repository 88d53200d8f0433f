// The processes of a bench run: the relay under test (parley's CLI or the raw
// baseline), the generator and the attack scenario's attacker, each spawned
// with the raised fd limit, their output read line by line, and every wait
// bounded.

import path from "node:path";
import type { Subprocess } from "bun";
import type { GeneratorConfig, GeneratorEvent, Target } from "./load.ts";
import type { Transport } from "./options.ts";
import { withRaisedFdLimit } from "./proc.ts";

const root = path.resolve(import.meta.dir, "..");
const bun = process.execPath;

export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
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

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `port`: parley's plain TCP listener, or the raw relay's one; `tlsPort`: parley's TLS listener, when it was given a certificate; `httpPort`: its HTTP listener (WebSockets at /ws). */
export type Relay = { proc: Subprocess<"ignore", "ignore", "pipe">; port: number; tlsPort?: number; httpPort?: number; tail: string[] };

/** A plan's limits override the raised ones below; "default": the server's own, not raised (the attack scenario measures the shares). */
export type ServerLimits = {
  maxPendingForwards?: number;
  maxBodyBytes?: number;
  maxQueuedBytes?: number;
  maxShareBytes?: "default";
  rateMessages?: "default";
  burstMessages?: "default";
  rateBytes?: "default";
  burstBytes?: "default";
};

/**
 * The bench is one address sending as fast as it can, which the fairness
 * limits (docs/protocol.md §6) exist to stop: it raises them, and says so in
 * bench/README.md. A tree older than them does not know these flags, so only
 * the ones its --help lists are passed.
 */
const benchLimits: Record<string, number> = {
  maxConnectionsPerAddress: 10_000_000,
  maxNamesPerAddress: 10_000_000,
  rateMessages: 10_000_000,
  burstMessages: 100_000_000,
  rateBytes: 2 ** 40,
  burstBytes: 2 ** 40,
  maxShareBytes: 2 ** 32,
};

const knownFlags = new Map<string, Promise<Set<string>>>();

/** The flags `parley server --help` of the tree in `dir` lists. */
function serverFlags(dir: string): Promise<Set<string>> {
  let flags = knownFlags.get(dir);
  if (flags === undefined) {
    const proc = Bun.spawn([bun, "src/cli.ts", "server", "--help"], { cwd: dir, stdout: "pipe", stderr: "ignore" });
    flags = new Response(proc.stdout).text().then((help) => new Set(help.match(/--[a-z][a-z0-9-]*/g) ?? []));
    knownFlags.set(dir, flags);
  }
  return flags;
}

function flag(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Starts parley (`bun src/cli.ts server --port 0` in `parleyDir`, which may be
 * another checkout: its own tsconfig and node_modules apply) or the raw relay
 * of `transport` (bench/baseline.ts, or bench/baseline-ws.ts for ws); resolves
 * once it logged the ports the run needs: parley's plain port, its TLS port if
 * `serverArgs` (more flags for parley: a certificate, an accounts file) ask for
 * TLS, its HTTP port (WebSockets at /ws) for ws. `profile`: run parley under
 * `bun --cpu-prof`.
 */
export async function startRelay(
  target: Target,
  transport: Transport,
  limits: ServerLimits,
  parleyDir: string,
  profile: { dir: string; name: string } | undefined,
  serverArgs: string[] = [],
): Promise<Relay> {
  let argv: string[];
  let cwd = root;
  let needed: string[];
  if (target === "raw") {
    argv = [bun, transport === "ws" ? "bench/baseline-ws.ts" : "bench/baseline.ts", "--port", "0"];
    needed = [transport === "ws" ? "ws" : "tcp"];
  } else {
    cwd = parleyDir;
    const profiling = profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profile.dir}`, `--cpu-prof-name=${profile.name}.cpuprofile`];
    const known = await serverFlags(parleyDir);
    if (transport === "ws" && !known.has("--http-port")) throw new Error(`the server in ${parleyDir} has no WebSocket transport (no --http-port)`);
    const raised = Object.fromEntries(Object.entries(benchLimits).filter(([name]) => known.has(flag(name))));
    const limitFlags = Object.entries({ ...raised, ...limits })
      .filter(([, value]) => value !== "default")
      .flatMap(([name, value]) => [flag(name), String(value)]);
    // HTTP (and HTTPS, beside TLS) on free ports, not their fixed defaults: a run must not depend on 5080 or 5444 being free.
    const https = known.has("--https-port") && serverArgs.includes("--tls-cert") ? ["--https-port", "0"] : [];
    const http = [...(known.has("--http-port") ? ["--http-port", "0"] : []), ...https];
    argv = [bun, ...profiling, "src/cli.ts", "server", "--port", "0", ...http, "--log-level", "info", ...limitFlags, ...serverArgs];
    needed = ["tcp", ...(serverArgs.includes("--tls-cert") ? ["tls"] : []), ...(transport === "ws" ? ["http"] : [])];
  }
  const proc = Bun.spawn(withRaisedFdLimit(argv), { cwd, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const tail: string[] = [];
  const ports = new Map<string, number>();
  const { promise: listening, resolve, reject } = Promise.withResolvers<void>();
  // Keep reading stderr for the whole run: a full pipe would block the server's log writes.
  void readLines(proc.stderr, (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    // parley logs one line per listener (transport=tcp, tls, http); the TCP baseline names none.
    const match = /\.listening (?:transport=(\w+) )?.*port=(\d+)/.exec(line);
    if (match) ports.set(match[1] ?? "tcp", Number(match[2]));
    if (needed.every((name) => ports.has(name))) resolve();
  });
  // Settling an already-resolved promise is a no-op, so a later exit is not an error here.
  void proc.exited.then((code) => reject(new Error(`${target} exited with ${code} before listening: ${tail.join(" | ")}`)));
  await withDeadline(listening, 15_000, `${target} start`);
  return { proc, port: ports.get(needed[0]!)!, tlsPort: ports.get("tls"), httpPort: ports.get("http"), tail };
}

export async function stopProcess(proc: Subprocess<"ignore" | "pipe", "ignore" | "pipe", "pipe">): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  try {
    await withDeadline(proc.exited, 8000, "stop");
  } catch {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

/** A generator, the attacker or the NATS ceiling's requester and responder: a process that prints one JSON event per line. */
export type Generator = { name: string; proc: Subprocess<"pipe", "pipe", "pipe">; events: AsyncIterator<GeneratorEvent>; stderr: string[] };

export function startGenerator(config: GeneratorConfig): Generator {
  return startEvents("generator", ["bench/generator.ts", JSON.stringify(config)]);
}

/** bench/attacker.ts against the server on `port`; its stdin steps it (see there). */
export function startAttacker(port: number): Generator {
  return startEvents("attacker", ["bench/attacker.ts", String(port)]);
}

/** `bun ARGS...` in this tree: a process that prints one JSON event per line (the generator, the attacker, bench/nats-ceiling.ts). */
export function startEvents(name: string, args: string[]): Generator {
  const proc = Bun.spawn(withRaisedFdLimit([bun, ...args]), { cwd: root, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
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
  return { name, proc, events, stderr };
}

/** The next event from a generator; a failure or an early exit becomes an error with its stderr. */
export async function nextEvent(generator: Generator, deadlineMs: number): Promise<GeneratorEvent> {
  const next = await withDeadline(generator.events.next(), deadlineMs, generator.name);
  if (next.done) {
    const code = await generator.proc.exited;
    throw new Error(`${generator.name} exited with ${code}: ${generator.stderr.join(" | ")}`);
  }
  if (next.value.event === "failed") throw new Error(`${generator.name} failed: ${next.value.error}`);
  return next.value;
}
