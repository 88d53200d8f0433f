// The load generator's shared machinery: its config and events, how it
// reports and dies, and the measurement window every sender records into
// (its connections are bench/connection.ts and bench/ws-connection.ts).

import { Histogram, type Percentiles } from "./histogram.ts";

export type Target = "parley" | "raw";

export type GeneratorConfig = {
  readonly target: Target;
  readonly port: number;
  /** unicast: `pairs` sender/receiver pairs; broadcast: one sender, `receivers` receivers; scale: `users` idle users. */
  readonly kind: "unicast" | "broadcast" | "scale";
  readonly pairs: number;
  readonly inflight: number;
  readonly body: number;
  readonly receivers: number;
  readonly users: number;
  /** scale: this process registers users userOffset .. userOffset + users - 1. */
  readonly userOffset: number;
  /** scale: 2 is one connection per role (the normal client); 1 registers both roles on one connection (PROTOCOL.md §3). */
  readonly connectionsPerUser: 1 | 2;
  /** Users registering at once. */
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** After the window: how long to wait for SENDs in flight before giving up on them. */
  readonly drainMs: number;
  /** "project": every header through decodeServerHead; "cached": a known header block maps to its decoded head, anything else goes through decodeServerHead. */
  readonly decoder: "project" | "cached";
  /** attack: receiver attack.victim also answers the attacker's FORWARDs, in the quiet run too, so that the two runs differ only by the attacker. */
  readonly answersAttacker: boolean;
  /** Connect over TLS to `port`, trusting the bench's own certificate (PEM). */
  readonly tls?: { readonly ca: string };
  /** cluster: receiver i connects to `receiverPorts[i % length]`, another node's, while the senders connect to `port`. */
  readonly receiverPorts?: readonly number[];
  /** Connect with a WebSocket to `port`'s /ws: one per user, both roles on it, a message per protocol message (docs/protocol.md D44). */
  readonly websocket?: boolean;
  /** accounts: every user registers with this password (one for all: see bench/fixtures.ts). */
  readonly password?: string;
  /** The process gives up (exit 1) after this long. */
  readonly deadlineMs: number;
};

export type GeneratorEvent =
  | { event: "ready"; connections: number; setupMs: number }
  | { event: "start" }
  | { event: "stop" }
  | {
      event: "result";
      completed: number;
      errors: number;
      windowMs: number;
      latencyMicros: Percentiles;
      cpuMicros: number;
      /** Round trips still in flight when the generator gave up draining. */
      abandoned: number;
    }
  | { event: "registered"; users: number; connections: number; startEpochMs: number; endEpochMs: number; cpuMicros: number }
  /** bench/attacker.ts: its SENDs answered SENT and ERROR 102 in the window. */
  | { event: "attacked"; sent: number; refused: number }
  | { event: "failed"; error: string };

/**
 * The attack scenario's flooder (bench/attacker.ts): one user from an address
 * of its own (the honest users are all 127.0.0.1), as a real attacker would
 * be; 64 KiB bodies (the default body limit), 256 in flight, all to one
 * honest receiver.
 */
export const attack = { name: "mallory", address: "127.0.0.2", victim: "r0", body: 65536, inflight: 256 } as const;

export function emit(event: GeneratorEvent, then?: () => void): void {
  process.stdout.write(JSON.stringify(event) + "\n", then);
}

/** Thrown by die() to unwind a handler; the process is already on its way out. */
class Dying extends Error {}
let dying = false;

/** die() was called: a connection closing now is the process going, not the server. */
export const isDying = (): boolean => dying;

export function die(error: unknown): never {
  if (!dying && !(error instanceof Dying)) {
    dying = true;
    const text = error instanceof Error ? error.message : String(error);
    emit({ event: "failed", error: text }, () => process.exit(1));
    // stdout may be a pipe: give the write a moment, then exit regardless.
    setTimeout(() => process.exit(1), 200);
  }
  throw new Dying("dying");
}

export const epochMs = (): number => performance.timeOrigin + performance.now();

/** The scale and accounts scenarios' users, named as bench/fixtures.ts writes them into an accounts file. */
export const userName = (id: number): string => `u${id}`;

/** Runs `task(0..count-1)` with at most `limit` at a time. */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

// ---------------------------------------------------------------------------
// Measurement: one window, shared by every sender

type Phase = "warmup" | "measure" | "drain";

export const stats = {
  phase: "warmup" as Phase,
  completed: 0,
  errors: 0,
  histogram: new Histogram(),
};

/**
 * One sender's round trips in flight, oldest first; replies come in order
 * (PROTOCOL.md §4). Replies are completed per chunk and refilled in one
 * send(count), so the generator's work per chunk does not grow with the batch:
 * a generator that pays per record is the limit before a fast relay is.
 */
export class Pump {
  readonly #inflight: number;
  readonly #send: (count: number) => void;
  readonly #started: Float64Array;
  #head = 0;
  #count = 0;

  /** `send(count)` writes `count` more requests. */
  constructor(inflight: number, send: (count: number) => void) {
    this.#inflight = inflight;
    this.#send = send;
    this.#started = new Float64Array(inflight);
  }

  get outstanding(): number {
    return this.#count;
  }

  /** Tops the window up to `inflight` with one send(). */
  fill(): void {
    const count = this.#inflight - this.#count;
    if (stats.phase === "drain" || count === 0) return;
    const now = performance.now();
    for (let i = 0, at = this.#head + this.#count; i < count; i++, at++) this.#started[at % this.#inflight] = now;
    this.#count += count;
    this.#send(count);
  }

  /** `ok` successes then `failed` errors arrived in one chunk: one clock read for all of them. Call fill() after. */
  complete(ok: number, failed = 0): void {
    if (ok + failed > this.#count) die("a reply with nothing in flight");
    this.#count -= ok + failed;
    stats.errors += failed;
    const measuring = stats.phase === "measure";
    const now = measuring && ok > 0 ? performance.now() : 0;
    for (let i = 0; i < ok + failed; i++) {
      if (measuring && i < ok) stats.histogram.record((now - this.#started[this.#head]!) * 1000);
      this.#head = this.#head + 1 === this.#inflight ? 0 : this.#head + 1;
    }
    if (measuring) stats.completed += ok;
  }
}

/** `count` copies of `message` back to back: a pump writes a prefix of it, so a refill is one write and no copy. */
export function repeated(message: Uint8Array, count: number): Uint8Array {
  const block = new Uint8Array(message.length * count);
  for (let i = 0; i < count; i++) block.set(message, i * message.length);
  return block;
}
