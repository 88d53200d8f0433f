// The load generator, run as its own process by bench/run.ts. It speaks
// PROTOCOL.md to parley with the project's Framer and Outbox (one write() per
// turn), or drives the raw baseline relay with fixed-size records, with the
// same loop for both. Two connections per user, like real clients.
//
//   bun bench/generator.ts '<GeneratorConfig as JSON>'
// prints one JSON event per line on stdout: ready, start, stop, result (load
// scenarios) or registered (scale, which then holds its users until stdin ends).

import type { Socket, SocketHandler } from "bun";
import { Outbox } from "../src/net/outbox.ts";
import { ascii } from "../src/protocol/ascii.ts";
import { Framer } from "../src/protocol/framer.ts";
import { Role, decodeServerHead, encodeReceived, encodeRegister, encodeSend, type ServerHead } from "../src/protocol/messages.ts";
import type { HeadDecoder } from "../src/protocol/messages.ts";
import { Histogram, type Percentiles } from "./histogram.ts";
import { RawKind, ackBytes, encodeHello, helloBytes, recordOverhead } from "./raw-wire.ts";

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
  | { event: "failed"; error: string };

const host = "127.0.0.1";

function emit(event: GeneratorEvent, then?: () => void): void {
  process.stdout.write(JSON.stringify(event) + "\n", then);
}

/** Thrown by die() to unwind a handler; the process is already on its way out. */
class Dying extends Error {}
let dying = false;

function die(error: unknown): never {
  if (!dying && !(error instanceof Dying)) {
    dying = true;
    const text = error instanceof Error ? error.message : String(error);
    emit({ event: "failed", error: text }, () => process.exit(1));
    // stdout may be a pipe: give the write a moment, then exit regardless.
    setTimeout(() => process.exit(1), 200);
  }
  throw new Dying("dying");
}

const epochMs = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------
// Connections

class Client {
  socket: Socket<Client> | undefined;
  outbox: Outbox | undefined;
  onBytes: (chunk: Uint8Array) => void = () => {};
  expectClose = false;

  write(bytes: Uint8Array): void {
    this.outbox!.write(bytes);
  }

  end(): void {
    this.expectClose = true;
    this.outbox?.end();
  }
}

const handlers: SocketHandler<Client> = {
  data(socket, chunk) {
    socket.data.onBytes(chunk);
  },
  drain(socket) {
    socket.data.outbox?.onDrain();
  },
  close(socket) {
    if (!socket.data.expectClose && !dying) die("the server closed a connection");
  },
  error(socket, error) {
    // A handler that threw lands here (BUN-NOTES.md); die() has reported it already.
    if (!socket.data.expectClose && !dying) die(`socket error: ${error.message}`);
  },
};

const clients: Client[] = [];

async function connect(port: number): Promise<Client> {
  const client = new Client();
  const socket = await Bun.connect<Client>({ hostname: host, port, data: client, socket: handlers });
  client.socket = socket;
  client.outbox = new Outbox(socket, Number.MAX_SAFE_INTEGER, () => die("outbox overflow"));
  clients.push(client);
  return client;
}

/** Runs `task(0..count-1)` with at most `limit` at a time. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

// ---------------------------------------------------------------------------
// Measurement: one window, shared by every sender

type Phase = "warmup" | "measure" | "drain";

const stats = {
  phase: "warmup" as Phase,
  completed: 0,
  errors: 0,
  histogram: new Histogram(),
};

/** One sender's round trips in flight, oldest first; replies come in order (PROTOCOL.md §4). */
class Pump {
  readonly #inflight: number;
  readonly #send: () => void;
  readonly #started: Float64Array;
  #head = 0;
  #count = 0;

  constructor(inflight: number, send: () => void) {
    this.#inflight = inflight;
    this.#send = send;
    this.#started = new Float64Array(inflight);
  }

  get outstanding(): number {
    return this.#count;
  }

  fill(): void {
    const now = performance.now();
    while (stats.phase !== "drain" && this.#count < this.#inflight) {
      this.#started[(this.#head + this.#count) % this.#inflight] = now;
      this.#count++;
      this.#send();
    }
  }

  complete(ok: boolean): void {
    if (this.#count === 0) die("a reply with nothing in flight");
    const started = this.#started[this.#head]!;
    this.#head = (this.#head + 1) % this.#inflight;
    this.#count--;
    if (stats.phase === "measure") {
      if (ok) {
        stats.completed++;
        stats.histogram.record((performance.now() - started) * 1000);
      }
    }
    if (!ok) stats.errors++;
    this.fill();
  }
}

// ---------------------------------------------------------------------------
// parley

type ParleyClient = Client & { onFrame: (head: ServerHead, body: Uint8Array) => void };

/** decodeServerHead, with the header blocks a connection expects decoded once and recognised by their bytes. */
function cachedDecoder(known: Uint8Array[]): HeadDecoder<ServerHead> {
  const entries = known.map((block) => ({ block, head: decodeServerHead(block) }));
  return (block) => {
    next: for (const entry of entries) {
      const expected = entry.block;
      if (expected.length !== block.length) continue;
      for (let i = 0; i < block.length; i++) if (expected[i] !== block[i]) continue next;
      return entry.head;
    }
    return decodeServerHead(block);
  };
}

function framerFor(config: GeneratorConfig, known: Uint8Array[]): Framer<ServerHead> {
  const limits = { maxHeaderBytes: 8192, maxBodyBytes: Math.max(65536, config.body) };
  return new Framer(limits, config.decoder === "cached" ? cachedDecoder(known) : decodeServerHead);
}

async function connectParley(config: GeneratorConfig, known: Uint8Array[]): Promise<ParleyClient> {
  const client = (await connect(config.port)) as ParleyClient;
  const framer = framerFor(config, known);
  const sink = (head: ServerHead, body: Uint8Array) => client.onFrame(head, body);
  client.onFrame = (head) => die(`unexpected ${head.verb}`);
  client.onBytes = (chunk) => {
    const error = framer.push(chunk, sink);
    if (error !== undefined) die(`unparseable reply from the server: ${error.message}`);
  };
  return client;
}

function register(client: ParleyClient, role: Role, name: string): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  client.onFrame = (head) => {
    if (head.verb !== "REGISTERED" || head.role !== role || head.name !== name) die(`REGISTER ${role} ${name} got ${head.verb}`);
    client.onFrame = (late) => die(`unexpected ${late.verb}`);
    resolve();
  };
  client.write(encodeRegister(role, name));
  return promise;
}

type ParleyUser = { name: string; sending: ParleyClient; receiving: ParleyClient };

/** Two connections, one role each (PROTOCOL.md §3). `known` are the header blocks its receiving side will see. */
async function registerUser(config: GeneratorConfig, name: string, known: { sending: Uint8Array[]; receiving: Uint8Array[] }): Promise<ParleyUser> {
  const [sending, receiving] = await Promise.all([connectParley(config, known.sending), connectParley(config, known.receiving)]);
  await Promise.all([register(sending, Role.ToSend, name), register(receiving, Role.ToRecv, name)]);
  return { name, sending, receiving };
}

/** The receiving side of a load user: answers every FORWARD from `from` with RECEIVED. */
function answerForwards(user: ParleyUser, from: string): void {
  const received = encodeReceived(from);
  user.receiving.onFrame = (head) => {
    if (head.verb !== "FORWARD" || head.from !== from) die(`receiver ${user.name} got ${head.verb}`);
    user.receiving.write(received);
  };
}

/** The sending side: a pump of SENDs to `to`, completed by SENT (or an ERROR, counted). */
function pumpSends(config: GeneratorConfig, user: ParleyUser, to: string): Pump {
  const send = encodeSend(to, new Uint8Array(config.body).fill(0x61));
  const pump = new Pump(config.inflight, () => user.sending.write(send));
  user.sending.onFrame = (head) => {
    if (head.verb === "SENT" && head.to === to) return pump.complete(true);
    if (head.verb === "ERROR") return pump.complete(false);
    die(`sender ${user.name} got ${head.verb}`);
  };
  return pump;
}

async function setupParley(config: GeneratorConfig): Promise<Pump[]> {
  const forwardFrom = (from: string) => ascii(`FORWARD ${from}\nContent-length: ${config.body}\n\n`);
  if (config.kind === "broadcast") {
    const sender = "b0";
    await pool(config.receivers, config.concurrency, async (i) => {
      answerForwards(await registerUser(config, `r${i}`, { sending: [], receiving: [forwardFrom(sender)] }), sender);
    });
    const user = await registerUser(config, sender, { sending: [ascii("SENT ALL\n\n")], receiving: [] });
    return [pumpSends(config, user, "ALL")];
  }
  const pumps: Pump[] = [];
  await pool(config.pairs, config.concurrency, async (i) => {
    const [from, to] = [`s${i}`, `r${i}`];
    const [sender, receiver] = await Promise.all([
      registerUser(config, from, { sending: [ascii(`SENT ${to}\n\n`)], receiving: [] }),
      registerUser(config, to, { sending: [], receiving: [forwardFrom(from)] }),
    ]);
    answerForwards(receiver, from);
    pumps.push(pumpSends(config, sender, to));
  });
  return pumps;
}

// ---------------------------------------------------------------------------
// raw baseline

async function joinRaw(config: GeneratorConfig, kind: RawKind, group: number): Promise<Client> {
  const client = await connect(config.port);
  const { promise, resolve } = Promise.withResolvers<void>();
  let left = helloBytes;
  client.onBytes = (chunk) => {
    const take = Math.min(left, chunk.length);
    left -= take;
    if (left > 0) return;
    resolve();
    client.onBytes = () => die("raw data before the run");
    if (take < chunk.length) die("raw data before the run");
  };
  client.write(encodeHello(kind, group));
  await promise;
  return client;
}

// One block of acks to answer many records at once; never mutated, so the outbox may hold views of it.
const ackBlock = new Uint8Array(ackBytes * 4096);

/** Answers every complete record with one ack. */
function ackRecords(client: Client, recordBytes: number): void {
  let pending = 0;
  client.onBytes = (chunk) => {
    pending += chunk.length;
    let records = Math.floor(pending / recordBytes);
    pending -= records * recordBytes;
    while (records > 0) {
      const now = Math.min(records, 4096);
      client.write(ackBlock.subarray(0, now * ackBytes));
      records -= now;
    }
  };
}

function pumpRecords(config: GeneratorConfig, client: Client): Pump {
  const record = new Uint8Array(config.body + recordOverhead).fill(0x61);
  const pump = new Pump(config.inflight, () => client.write(record));
  let pending = 0;
  client.onBytes = (chunk) => {
    pending += chunk.length;
    const acks = Math.floor(pending / ackBytes);
    pending -= acks * ackBytes;
    for (let i = 0; i < acks; i++) pump.complete(true);
  };
  return pump;
}

async function setupRaw(config: GeneratorConfig): Promise<Pump[]> {
  const recordBytes = config.body + recordOverhead;
  if (config.kind === "broadcast") {
    await pool(config.receivers, config.concurrency, async () => {
      ackRecords(await joinRaw(config, RawKind.BroadcastReceiver, 0), recordBytes);
      await joinRaw(config, RawKind.Idle, 0); // the user's other connection
    });
    const sender = await joinRaw(config, RawKind.BroadcastSender, 0);
    await joinRaw(config, RawKind.Idle, 0);
    return [pumpRecords(config, sender)];
  }
  const pumps: Pump[] = [];
  await pool(config.pairs, config.concurrency, async (i) => {
    // Receivers join first: the relay forwards only to a receiver it knows.
    ackRecords(await joinRaw(config, RawKind.Receiver, i), recordBytes);
    await Promise.all([joinRaw(config, RawKind.Idle, i), joinRaw(config, RawKind.Idle, i)]);
    pumps.push(pumpRecords(config, await joinRaw(config, RawKind.Sender, i)));
  });
  return pumps;
}

// ---------------------------------------------------------------------------
// Scenarios

async function runLoad(config: GeneratorConfig): Promise<void> {
  const setupStart = performance.now();
  const pumps = config.target === "parley" ? await setupParley(config) : await setupRaw(config);
  emit({ event: "ready", connections: clients.length, setupMs: performance.now() - setupStart });

  for (const pump of pumps) pump.fill();
  await Bun.sleep(config.warmupMs);

  stats.phase = "measure";
  emit({ event: "start" });
  const cpuStart = process.cpuUsage();
  const windowStart = performance.now();
  await Bun.sleep(config.durationMs);
  stats.phase = "drain";
  const windowMs = performance.now() - windowStart;
  const cpu = process.cpuUsage(cpuStart);
  emit({ event: "stop" });

  const drainEnd = performance.now() + config.drainMs;
  const outstanding = () => pumps.reduce((sum, pump) => sum + pump.outstanding, 0);
  while (outstanding() > 0 && performance.now() < drainEnd) await Bun.sleep(5);

  for (const client of clients) client.end();
  emit(
    {
      event: "result",
      completed: stats.completed,
      errors: stats.errors,
      windowMs,
      latencyMicros: stats.histogram.summary(),
      cpuMicros: cpu.user + cpu.system,
      abandoned: outstanding(),
    },
    () => process.exit(0),
  );
}

async function runScale(config: GeneratorConfig): Promise<void> {
  const startEpochMs = epochMs();
  const cpuStart = process.cpuUsage();
  await pool(config.users, config.concurrency, async (i) => {
    const id = config.userOffset + i;
    const name = `u${id}`;
    if (config.connectionsPerUser === 2) {
      if (config.target === "parley") await registerUser(config, name, { sending: [], receiving: [] });
      else await Promise.all([joinRaw(config, RawKind.Idle, id), joinRaw(config, RawKind.Idle, id)]);
    } else if (config.target === "parley") {
      const client = await connectParley(config, []);
      await register(client, Role.ToSend, name);
      await register(client, Role.ToRecv, name);
    } else {
      await joinRaw(config, RawKind.Idle, id);
    }
  });
  const endEpochMs = epochMs();
  const cpu = process.cpuUsage(cpuStart);
  emit({ event: "registered", users: config.users, connections: clients.length, startEpochMs, endEpochMs, cpuMicros: cpu.user + cpu.system });
  // Hold every user until the orchestrator has read the server's memory and closes our stdin.
  await Bun.stdin.text();
  for (const client of clients) client.end();
  setTimeout(() => process.exit(0), 50);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as GeneratorConfig;
  setTimeout(() => die(`deadline of ${config.deadlineMs} ms passed`), config.deadlineMs).unref();
  await (config.kind === "scale" ? runScale(config) : runLoad(config));
}

main().catch((error: unknown) => {
  try {
    die(error);
  } catch {
    // already reported
  }
});
