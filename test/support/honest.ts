// The honest group: N users chatting through real sockets, pipelined, unicast
// and broadcast, answering every FORWARD with RECEIVED, and feeding everything
// to the InvariantChecker. Hostile tests, fault tests and the soak run one
// beside whatever they throw at the server.

import type { InvariantChecker, LossPolicy } from "./invariants.ts";
import type { Rng } from "./prng.ts";
import { Wire, type ServerMessage } from "./wire.ts";
import { Changes } from "./changes.ts";

export type HonestOptions = {
  /** The server's port; a function so a restarted server can move (it normally does not). */
  port: number | (() => number);
  names: readonly string[];
  /** Members that hold both roles on one connection (PROTOCOL.md §3 single-connection mode). */
  single?: readonly string[];
  checker: InvariantChecker;
  rng: Rng;
  /** SENDs in flight per member. */
  window?: number;
  /** Largest body, marker included. */
  maxBody?: number;
  /** Share of SENDs to ALL. */
  broadcast?: number;
  /** What a connection the server closes means (see LossPolicy); "strict" for hostile tests. */
  onLoss?: LossPolicy;
  /** Members reconnect and register again after losing a connection, retrying until this many ms pass. */
  reconnectForMs?: number;
  /** Stop issuing SENDs after this many per member (bounded runs). */
  maxSendsEach?: number;
};

const encoder = new TextEncoder();
const retryMs = 25;

/** Random payload bytes, with protocol-looking traps mixed in (PROTOCOL.md §1: bodies are opaque). */
function payloadPool(rng: Rng): Uint8Array {
  const pool = rng.bytes(128 * 1024);
  const traps = ["\n\n", "\r\n\r\n", "FORWARD mallory\nContent-length: 3\n\nabc", "SENT ALL\n\n", "ERROR 103 Header incomplete\n\n", "\u00e9\u4e2d"];
  for (let i = 0; i < 400; i++) pool.set(encoder.encode(rng.pick(traps)), rng.int(pool.length - 64));
  return pool;
}

export class HonestGroup {
  readonly members: readonly HonestMember[];
  readonly checker: InvariantChecker;
  readonly options: Required<Omit<HonestOptions, "single">> & { single: readonly string[] };
  readonly pool: Uint8Array;
  running = true;
  stopping = false;
  /** Share of SENDs to ALL; may change while the group runs. */
  broadcast: number;
  /** Problems outside the checker's rules: a garbled stream, an unexpected message, a failed reconnect. */
  readonly faults: string[] = [];
  readonly #changes = new Changes();

  private constructor(options: HonestOptions) {
    this.options = {
      window: 4,
      maxBody: 2048,
      broadcast: 0.1,
      onLoss: "strict",
      reconnectForMs: 0,
      maxSendsEach: Number.MAX_SAFE_INTEGER,
      single: [],
      ...options,
    };
    this.checker = options.checker;
    this.broadcast = this.options.broadcast;
    this.pool = payloadPool(options.rng);
    this.members = options.names.map((name) => new HonestMember(this, name, this.options.single.includes(name)));
    for (const name of options.names) this.checker.honest(name);
  }

  /** Connects and registers every member, then starts them chatting. */
  static async start(options: HonestOptions): Promise<HonestGroup> {
    const group = new HonestGroup(options);
    await Promise.all(group.members.map((member) => member.join()));
    for (const member of group.members) member.pump();
    return group;
  }

  get port(): number {
    const port = this.options.port;
    return typeof port === "number" ? port : port();
  }

  get replies(): number {
    return this.checker.counts.replies;
  }

  fault(text: string): void {
    if (this.faults.length < 100) this.faults.push(text);
    this.changed();
  }

  /** Something happened: re-check what waitFor is waiting for. */
  changed(): void {
    this.#changes.changed();
  }

  /** Waits for `done()` with a deadline, re-checking on every event of the group. */
  async waitFor(done: () => boolean, deadlineMs: number, what: string): Promise<void> {
    await this.#changes.until(done, deadlineMs, () => `waiting for ${what}; ${this.checker.summary()}; faults: ${this.faults.join("; ")}`, 250);
  }

  /** Waits until `count` more SENDs were answered, proving the group is still served. */
  async progress(count: number, deadlineMs = 5000): Promise<void> {
    const target = this.replies + count;
    await this.waitFor(() => this.replies >= target, deadlineMs, `${count} more replies to honest SENDs`);
  }

  /** Stops issuing SENDs and waits for every reply owed. */
  async quiesce(deadlineMs = 5000): Promise<void> {
    this.running = false;
    await this.waitFor(() => this.members.every((m) => m.inFlight === 0 || !m.up), deadlineMs, "every honest SEND to be answered");
  }

  /**
   * Stops broadcasting and waits until no broadcast is in flight: a user who
   * registers after this gets no honest FORWARD until broadcasts resume.
   */
  async quietBroadcasts(deadlineMs = 15_000): Promise<void> {
    this.broadcast = 0;
    await this.waitFor(() => this.checker.outstandingTo("ALL") === 0, deadlineMs, "honest broadcasts in flight to be answered");
  }

  resume(): void {
    this.running = true;
    for (const member of this.members) member.pump();
  }

  member(name: string): HonestMember {
    const member = this.members.find((m) => m.name === name);
    if (member === undefined) throw new Error(`no honest member ${name}`);
    return member;
  }

  /** Closes every connection; SENDs still in flight are not owed anything. */
  close(): void {
    this.running = false;
    this.stopping = true;
    for (const member of this.members) member.leave();
    this.changed();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export class HonestMember {
  readonly name: string;
  readonly single: boolean;
  readonly #group: HonestGroup;
  #sender: Wire | undefined;
  #receiver: Wire | undefined;
  #conn = "";
  #generation = 0;
  up = false;
  inFlight = 0;
  sends = 0;
  /** FORWARDs not answered yet because the member is holding its answers. */
  #held: { from: string; body: Uint8Array }[] = [];
  #holding = false;
  /** Lost its registration, still reading the replies owed on its sending connection. */
  #owed = false;
  #registering: ((message: ServerMessage | undefined) => void) | undefined;

  constructor(group: HonestGroup, name: string, single: boolean) {
    this.#group = group;
    this.name = name;
    this.single = single;
  }

  /** FORWARDs seen and not yet answered while holding. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Stops answering FORWARDs (to keep transactions open on purpose). */
  hold(): void {
    this.#holding = true;
  }

  /** Answers every held FORWARD in order, then answers as they come. */
  release(): void {
    this.#holding = false;
    for (const { from, body } of this.#held.splice(0)) this.#answer(from, body);
  }

  /** Connects both roles and registers them; retries while the server is down or still holds the old name. */
  async join(retryForMs = this.#group.options.reconnectForMs): Promise<void> {
    const group = this.#group;
    const deadline = performance.now() + retryForMs;
    for (let attempt = 1; ; attempt++) {
      if (group.stopping) return;
      const error = await this.#tryJoin();
      if (error === undefined) return;
      if (performance.now() > deadline) throw new Error(`${this.name} could not join: ${error} (attempt ${attempt})`);
      // A retry delay, not synchronisation: the server is down or has not yet noticed the old connection.
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  async #tryJoin(): Promise<string | undefined> {
    const generation = ++this.#generation;
    const key = `${this.name}#${generation}`;
    try {
      this.#sender = await Wire.open(this.#group.port, this.#handlers(generation, "send"));
      this.#receiver = this.single ? this.#sender : await Wire.open(this.#group.port, this.#handlers(generation, "recv"));
      await this.#register(this.#sender, "TOSEND");
      await this.#register(this.#receiver, "TORECV");
    } catch (error) {
      this.#drop();
      return String((error as Error).message ?? error);
    }
    this.#conn = key;
    this.up = true;
    this.#group.checker.memberUp(this.name);
    this.#group.changed();
    return undefined;
  }

  async #register(wire: Wire, role: string): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<ServerMessage | undefined>();
    this.#registering = resolve;
    const timer = setTimeout(() => resolve(undefined), 3000);
    wire.write(encoder.encode(`REGISTER ${role} ${this.name}\n\n`));
    const reply = await promise;
    clearTimeout(timer);
    this.#registering = undefined;
    const expected = `REGISTERED ${role} ${this.name}`;
    if (reply === undefined) throw new Error(`no answer to REGISTER ${role} ${this.name}`);
    if (`${reply.verb} ${reply.arg}` !== expected) throw new Error(`REGISTER ${role} ${this.name} answered ${reply.verb} ${reply.arg}`);
  }

  #handlers(generation: number, side: "send" | "recv") {
    return {
      message: (message: ServerMessage) => {
        if (generation !== this.#generation) return;
        this.#onMessage(message, side);
      },
      garbled: (detail: string) => this.#group.fault(`${this.name}(${side}): unreadable server stream: ${detail}`),
      closed: () => {
        if (generation === this.#generation) this.#lost(side);
      },
    };
  }

  #onMessage(message: ServerMessage, side: "send" | "recv"): void {
    const { verb, arg, body } = message;
    if (this.#registering !== undefined && (verb === "REGISTERED" || verb === "ERROR")) return this.#registering(message);
    if (verb === "FORWARD" && (side === "recv" || this.single)) return this.#onForward(arg, body);
    if ((verb === "SENT" || verb === "ERROR") && (side === "send" || this.single)) {
      this.#group.checker.reply(this.#conn, verb, verb === "ERROR" ? arg.split(" ")[0]! : arg);
      this.inFlight--;
      this.#group.changed();
      this.pump();
      return;
    }
    this.#group.fault(`${this.name}(${side}) got an unexpected ${verb} ${arg}`);
  }

  #onForward(from: string, body: Uint8Array): void {
    this.#group.checker.forward(this.name, from, body);
    this.#group.changed();
    if (this.#holding) this.#held.push({ from, body });
    else this.#answer(from, body);
  }

  #answer(from: string, body: Uint8Array): void {
    if (this.#receiver === undefined || this.#receiver.closed) return;
    this.#group.checker.received(this.name, body);
    this.#receiver.write(encoder.encode(`RECEIVED ${from}\n\n`));
  }

  /** Issues SENDs until the window is full. */
  pump(): void {
    const group = this.#group;
    const { window, maxBody, maxSendsEach } = group.options;
    const broadcast = group.broadcast;
    const rng = group.options.rng;
    const wire = this.#sender;
    if (!this.up || wire === undefined) return;
    while (group.running && this.inFlight < window && this.sends < maxSendsEach) {
      const others = group.members.filter((m) => m !== this && m.up);
      const to = rng.chance(broadcast) ? "ALL" : rng.chance(0.05) || others.length === 0 ? this.name : rng.pick(others).name;
      // Mostly small bodies, now and then one close to the largest.
      const size = rng.chance(0.05) ? rng.int(maxBody) : rng.int(Math.min(maxBody, 200));
      const start = rng.int(group.pool.length - size);
      const body = group.checker.body(this.name, group.pool.subarray(start, start + Math.max(0, size - 40)));
      group.checker.send(this.#conn, this.name, to, body);
      wire.write(encoder.encode(`SEND ${to}\nContent-length: ${body.length}\n\n`));
      wire.write(body);
      this.inFlight++;
      this.sends++;
    }
  }

  /** A connection closed under the member. */
  #lost(side: "send" | "recv"): void {
    const group = this.#group;
    this.#registering?.(undefined);
    if (this.up) {
      this.up = false;
      this.#owed = true;
      group.checker.memberDown(this.name);
      if (group.options.onLoss === "strict" && !group.stopping) group.fault(`the server closed honest ${this.name}(${side})`);
    }
    // docs/protocol.md D18: the server answers every SEND in flight before it
    // closes the sending connection too, so keep reading it until then.
    if (side === "recv" && this.#owed && this.#sender !== undefined && !this.#sender.closed && !group.stopping) return;
    const owed = this.#owed;
    this.#owed = false;
    this.#drop();
    if (!owed) return;
    if (group.stopping) {
      group.checker.senderClosed(this.#conn, "lenient");
      return;
    }
    group.checker.senderClosed(this.#conn, group.options.onLoss);
    group.changed();
    if (group.options.reconnectForMs > 0) {
      this.join().then(
        () => this.pump(),
        (error: Error) => group.fault(error.message),
      );
    }
  }

  /** Drops both connections without reporting; the member is not registered afterwards. */
  #drop(): void {
    this.up = false;
    this.inFlight = 0;
    this.#held = [];
    const sender = this.#sender;
    const receiver = this.#receiver;
    this.#sender = this.#receiver = undefined;
    this.#generation++;
    sender?.close();
    if (receiver !== sender) receiver?.close();
  }

  /** Leaves on purpose (churn, end of test): anything in flight is not owed. */
  leave(): void {
    if (this.up || this.#owed) {
      this.#owed = false;
      this.#group.checker.memberDown(this.name);
      this.#group.checker.senderClosed(this.#conn, "lenient");
    }
    this.#drop();
  }

  /** Leaves and joins again (client churn). */
  async rejoin(): Promise<void> {
    this.leave();
    // The server may not have seen the old connections close yet (ERROR 104): retry briefly.
    await this.join(3000);
    this.pump();
  }
}
