// The honest group: N users chatting through real sockets, pipelined, unicast
// and broadcast, answering every FORWARD with RECEIVED, and feeding everything
// to the InvariantChecker. Hostile tests, fault tests and the soak run one
// beside whatever they throw at the server. Its members are raw clients, over
// TCP or WebSocket, or parley's own (src/client/session.ts) when the client's
// reconnection is under test.

import type { SessionEvent } from "../../src/client/session-events.ts";
import { Session } from "../../src/client/session.ts";
import type { InvariantChecker, LossPolicy } from "./invariants.ts";
import type { Rng } from "./prng.ts";
import { Peer, register, type ServerMessage } from "./peer.ts";
import { Changes } from "./changes.ts";

export type HonestOptions = {
  port: number;
  /** Cluster nodes: the members connect to these in turn (default: `port` for all). */
  ports?: readonly number[];
  names: readonly string[];
  /** "session": every member is a parley client Session, reconnecting by itself (single and onLoss do not apply). */
  clients?: "raw" | "session";
  /** Members that hold both roles on one connection (PROTOCOL.md §3 single-connection mode). */
  single?: readonly string[];
  /** Members that join over WebSocket at `url` instead, both roles on the one connection (docs/protocol.md D44). */
  webSocket?: { readonly url: string; readonly names: readonly string[] };
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
};

const encoder = new TextEncoder();
const retryMs = 25;

const traps = ["\n\n", "\r\n\r\n", "FORWARD mallory\nContent-length: 3\n\nabc", "SENT ALL\n\n", "ERROR 103 Header incomplete\n\n", "\u00e9\u4e2d"];

export class HonestGroup {
  readonly members: readonly (HonestMember | SessionMember)[];
  readonly checker: InvariantChecker;
  readonly options: Required<Omit<HonestOptions, "single" | "webSocket">> & Pick<HonestOptions, "webSocket"> & { single: readonly string[] };
  /** Random payload bytes, with protocol-looking traps mixed in (PROTOCOL.md §1: bodies are opaque). */
  readonly #pool: Uint8Array;
  running = true;
  stopping = false;
  /** Share of SENDs to ALL; may change while the group runs. */
  broadcast: number;
  /** Problems outside the checker's rules: a garbled stream, an unexpected message, a failed reconnect. */
  readonly faults: string[] = [];
  /** The latest round trips (SEND to reply) of raw members in ms: a ring of 64 Ki, so the soak stays bounded. */
  readonly latencies: number[] = [];
  roundTrips = 0;
  readonly #changes = new Changes();

  private constructor(options: HonestOptions) {
    this.options = {
      window: 4,
      maxBody: 2048,
      broadcast: 0.1,
      onLoss: "strict",
      reconnectForMs: 0,
      clients: "raw",
      single: [],
      ports: [options.port],
      ...options,
    };
    this.checker = options.checker;
    this.broadcast = this.options.broadcast;
    this.#pool = options.rng.bytes(128 * 1024);
    for (let i = 0; i < 400; i++) this.#pool.set(encoder.encode(options.rng.pick(traps)), options.rng.int(this.#pool.length - 64));
    const { single, webSocket, ports } = this.options;
    this.members = options.names.map((name, i) => {
      if (this.options.clients === "session") return new SessionMember(this, name);
      const url = webSocket?.names.includes(name) ? webSocket.url : undefined;
      return new HonestMember(this, name, url === undefined && single.includes(name) ? "single" : url === undefined ? "two" : { webSocket: url }, ports[i % ports.length]!);
    });
    for (const name of options.names) this.checker.honest(name);
  }

  /** Connects and registers every member, then starts them chatting. */
  static async start(options: HonestOptions): Promise<HonestGroup> {
    const group = new HonestGroup(options);
    await Promise.all(group.members.map((member) => member.join()));
    for (const member of group.members) member.pump();
    return group;
  }

  get allUp(): boolean {
    return this.members.every((m) => m.up);
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
    const target = this.checker.counts.replies + count;
    await this.waitFor(() => this.checker.counts.replies >= target, deadlineMs, `${count} more replies to honest SENDs`);
  }

  /** Stops issuing SENDs and waits for every reply owed. */
  async quiesce(deadlineMs = 5000): Promise<void> {
    this.running = false;
    await this.waitFor(() => this.members.every((m) => m.settled), deadlineMs, "every honest SEND to be answered");
  }

  /** The next honest SEND of `from`: now and then to ALL or to itself, else to another member that is up. */
  nextSend(from: string): { to: string; body: Uint8Array } {
    const { rng, maxBody } = this.options;
    const others = this.members.filter((m) => m.name !== from && m.up);
    const to = rng.chance(this.broadcast) ? "ALL" : rng.chance(0.05) || others.length === 0 ? from : rng.pick(others).name;
    // Mostly small bodies, now and then one close to the largest.
    const size = rng.chance(0.05) ? rng.int(maxBody) : rng.int(Math.min(maxBody, 200));
    const start = rng.int(this.#pool.length - size);
    return { to, body: this.checker.body(from, this.#pool.subarray(start, start + Math.max(0, size - 40))) };
  }

  member(name: string): HonestMember {
    const member = this.members.find((m) => m.name === name);
    if (!(member instanceof HonestMember)) throw new Error(`no raw honest member ${name}`);
    return member;
  }

  /** Closes every connection; SENDs still in flight are not owed anything. */
  async close(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.changed();
    await Promise.all(this.members.map((member) => member.leave()));
  }

  [Symbol.dispose](): void {
    void this.close();
  }
}

/** How a member connects: two TCP connections, one for both roles, or one WebSocket (both roles). */
export type MemberLink = "two" | "single" | { readonly webSocket: string };

export class HonestMember {
  readonly name: string;
  readonly single: boolean;
  /** The URL it joins at over WebSocket, if it does. */
  readonly webSocket: string | undefined;
  /** The server (cluster node) it joins over TCP. */
  readonly port: number;
  readonly #group: HonestGroup;
  #sender: Peer | undefined;
  #receiver: Peer | undefined;
  #conn = "";
  up = false;
  inFlight = 0;
  connects = 0;
  /** FORWARDs seen and not answered because the member holds its answers. */
  heldCount = 0;
  /** When each SEND in flight was written. */
  #sentAt: number[] = [];
  #holding = false;
  /** Lost its registration, still reading the replies owed on its sending connection. */
  #owed = false;

  constructor(group: HonestGroup, name: string, link: MemberLink, port: number) {
    this.#group = group;
    this.name = name;
    this.single = link !== "two";
    this.webSocket = typeof link === "object" ? link.webSocket : undefined;
    this.port = port;
  }

  /** Stops answering FORWARDs (to keep transactions open on purpose). */
  hold(): void {
    this.#holding = true;
  }

  /** Every SEND answered, or owed nothing any more. */
  get settled(): boolean {
    return this.inFlight === 0 || !this.up;
  }

  /** Connects both roles and registers them; retries while the server is down or still holds the old name. */
  async join(retryForMs = this.#group.options.reconnectForMs): Promise<void> {
    const deadline = performance.now() + retryForMs;
    for (let attempt = 1; !this.#group.stopping; attempt++) {
      try {
        return await this.#tryJoin();
      } catch (error) {
        this.#drop();
        if (performance.now() > deadline) throw new Error(`${this.name} could not join: ${(error as Error).message} (attempt ${attempt})`);
      }
      // A retry delay, not synchronisation: the server is down or has not yet noticed the old connection.
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  async #tryJoin(): Promise<void> {
    const port = this.port;
    this.#sender = this.webSocket === undefined ? await Peer.connect(port, `${this.name}(send)`) : await Peer.connectWebSocket(this.webSocket, `${this.name}(ws)`);
    this.#receiver = this.single ? this.#sender : await Peer.connect(port, `${this.name}(recv)`);
    await register(this.#sender, "TOSEND", this.name);
    await register(this.#receiver, "TORECV", this.name);
    this.#conn = `${this.name}#${++this.connects}`;
    this.up = true;
    this.#group.checker.memberUp(this.name);
    this.#sender.listen(this.#listener("send"));
    if (!this.single) this.#receiver.listen(this.#listener("recv"));
    this.#group.changed();
  }

  /** Peer.close() silences a listener, so one dropped on purpose reports nothing more. */
  #listener(side: "send" | "recv") {
    return {
      message: (message: ServerMessage) => this.#onMessage(message, side),
      garbled: (detail: string) => this.#group.fault(`${this.name}(${side}): unreadable server stream: ${detail}`),
      closed: () => this.#lost(side),
    };
  }

  #onMessage(message: ServerMessage, side: "send" | "recv"): void {
    const { verb, arg, body } = message;
    if (verb === "FORWARD" && (side === "recv" || this.single)) return this.#onForward(arg, body);
    if ((verb === "SENT" || verb === "ERROR") && (side === "send" || this.single)) {
      this.#group.checker.reply(this.#conn, verb, verb === "ERROR" ? arg.split(" ")[0]! : arg);
      this.inFlight--;
      this.#group.latencies[this.#group.roundTrips++ % 65_536] = performance.now() - this.#sentAt.shift()!;
      this.#group.changed();
      this.pump();
      return;
    }
    this.#group.fault(`${this.name}(${side}) got an unexpected ${verb} ${arg}`);
  }

  #onForward(from: string, body: Uint8Array): void {
    this.#group.checker.forward(this.name, from, body);
    this.#group.changed();
    if (this.#holding) this.heldCount++;
    else if (this.#receiver !== undefined && !this.#receiver.isClosed) {
      this.#group.checker.received(this.name, body);
      this.#receiver.send(`RECEIVED ${from}\n\n`);
    }
  }

  /** Issues SENDs until the window is full. */
  pump(): void {
    const group = this.#group;
    const sender = this.#sender;
    if (!this.up || sender === undefined) return;
    while (group.running && this.inFlight < group.options.window) {
      const { to, body } = group.nextSend(this.name);
      group.checker.send(this.#conn, this.name, to, body);
      sender.send(`SEND ${to}\nContent-length: ${body.length}\n\n`);
      sender.send(body);
      this.#sentAt.push(performance.now());
      this.inFlight++;
    }
  }

  /** A connection closed under the member. */
  #lost(side: "send" | "recv"): void {
    const group = this.#group;
    if (this.up) {
      this.up = false;
      this.#owed = true;
      group.checker.memberDown(this.name);
      if (group.options.onLoss === "strict" && !group.stopping) group.fault(`the server closed honest ${this.name}(${side})`);
    }
    // docs/protocol.md D18: the server answers every SEND in flight before it
    // closes the sending connection too, so keep reading it until then.
    if (side === "recv" && this.#owed && this.#sender !== undefined && !this.#sender.isClosed && !group.stopping) return;
    const owed = this.#owed;
    this.#owed = false;
    this.#drop();
    if (!owed) return;
    group.checker.senderClosed(this.#conn, group.stopping ? "lenient" : group.options.onLoss);
    if (group.stopping) return;
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
    this.#sentAt = [];
    this.heldCount = 0;
    for (const peer of [this.#sender, this.#receiver]) peer?.close();
    this.#sender = this.#receiver = undefined;
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
}

/** A member that is a parley client Session: it reconnects by itself, and reports each SEND's outcome. */
export class SessionMember {
  readonly name: string;
  readonly #group: HonestGroup;
  readonly #session: Session;
  #conn = "";
  up = false;
  inFlight = 0;
  connects = 0;

  constructor(group: HonestGroup, name: string) {
    this.#group = group;
    this.name = name;
    this.#session = new Session({
      host: "127.0.0.1",
      port: group.options.port,
      user: name,
      // Quick retries: the test restarts the server at once.
      reconnect: { initialMs: 20, maxMs: 200 },
      connectTimeoutMs: 3000,
      onEvent: (event) => this.#onEvent(event),
    });
  }

  get settled(): boolean {
    return this.inFlight === 0;
  }

  async join(): Promise<void> {
    const failed = await this.#session.connect();
    if (failed !== undefined) throw new Error(`${this.name} could not connect: ${JSON.stringify(failed)}`);
  }

  #onEvent(event: SessionEvent): void {
    const { checker, members } = this.#group;
    if (event.type === "connected") {
      this.up = true;
      this.#conn = `${this.name}#${++this.connects}`;
      checker.memberUp(this.name);
      if (this.#group.allUp) for (const member of members) member.pump();
    } else if (event.type === "disconnected") {
      this.up = false;
      checker.memberDown(this.name);
    } else if (event.type === "received") {
      // The session writes RECEIVED right after this event, before any reply can arrive.
      checker.forward(this.name, event.from, event.body);
      checker.received(this.name, event.body);
    } else if (event.type === "rejected" || event.type === "protocol-error") {
      this.#group.fault(`${this.name}: ${JSON.stringify(event)}`);
    }
    this.#group.changed();
  }

  pump(): void {
    const group = this.#group;
    // Only while every client is connected: src/client/link.ts drops a FORWARD
    // that arrives between the server registering a client and the client's
    // own open() finishing, and would never answer it (reported; not ours to fix).
    while (group.running && group.allUp && this.#session.state === "ready" && this.inFlight < group.options.window) {
      const { to, body } = group.nextSend(this.name);
      const conn = this.#conn;
      group.checker.send(conn, this.name, to, body);
      this.inFlight++;
      void this.#session.send(to, body).then((outcome) => {
        this.inFlight--;
        if (outcome.kind === "delivered") group.checker.reply(conn, "SENT", outcome.to);
        else if (outcome.reason === "unable-to-send") group.checker.reply(conn, "ERROR", "102");
        else if (outcome.reason === "connection-lost" || outcome.reason === "not-connected") group.checker.lost(conn);
        else group.checker.reply(conn, "ERROR", outcome.reason);
        group.changed();
        this.pump();
      });
    }
  }

  leave(): Promise<void> {
    return this.#session.close();
  }
}
