// The one invariant checker of PROTOCOL.md §4 shared by the hostile, fault and
// soak runs. Honest clients tell it every SEND they write, every reply, every
// FORWARD they see and every RECEIVED they answer; it reports each broken
// promise as one line:
//   - every SEND gets exactly one reply while its sending connection is open;
//   - SENT only after the recipient (for ALL: every honest recipient that stayed
//     registered) answered RECEIVED for that very message;
//   - every FORWARD carries the sender's name and a body byte-identical to the SEND.

import { concat } from "./peer.ts";

/** Bodies written by honest clients start with this marker and a unique id. */
const marker = "parley-inv ";
const encoder = new TextEncoder();

type SendRecord = {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly body: Uint8Array;
  /** For ALL: the honest members registered when the SEND was written, with their epoch then. */
  readonly audience: ReadonlyMap<string, number>;
  /** Honest recipients whose FORWARD carried this message. */
  readonly forwardedTo: Set<string>;
  /** Honest recipients that answered RECEIVED for this message. */
  readonly ackedBy: Set<string>;
};

/** What happens to SENDs still unanswered when their sending connection closes. */
export type LossPolicy =
  /** The server closed an honest connection it should have kept: each unanswered SEND is a violation. */
  | "strict"
  /** The connection died for a reason outside the server (killed server, client churn): nothing is owed. */
  | "lenient"
  /** Graceful shutdown: a SEND the server provably read (its FORWARD reached someone) must have been answered. */
  | "read-means-answered";

let checkers = 0;

export class InvariantChecker {
  readonly violations: string[] = [];
  readonly counts = { sends: 0, replies: 0, sent: 0, failed: 0, forwards: 0, acks: 0, lost: 0 };
  readonly #run: string;
  #nextId = 1;
  readonly #sends = new Map<string, SendRecord>();
  /** Unanswered SENDs per sending connection, oldest first (replies come in SEND order). */
  readonly #outstanding = new Map<string, SendRecord[]>();
  /** Honest members and their registration epoch; absent while a member is not registered. */
  readonly #members = new Map<string, number>();
  readonly #epochs = new Map<string, number>();
  /** Names that only honest clients use: a FORWARD from one of them must carry a known message. */
  readonly #honestNames = new Set<string>();
  /** Keep at most this many answered SENDs for late FORWARD checks (the soak runs for hours). */
  readonly #retain: number;
  #answered: string[] = [];

  constructor(options: { retain?: number } = {}) {
    // Unique per checker in this process, and the same on every run (the suite stays deterministic).
    this.#run = `run${++checkers}`;
    this.#retain = options.retain ?? Number.POSITIVE_INFINITY;
  }

  #violate(text: string): void {
    // Bounded: a broken server must not make the checker itself eat the memory.
    if (this.violations.length < 1000) this.violations.push(text);
  }

  /** A new body carrying a unique id, then `payload`. */
  body(from: string, payload: Uint8Array): Uint8Array {
    return concat([encoder.encode(`${marker}${this.#run}.${from}.${this.#nextId++}\n`), payload]);
  }

  honest(name: string): void {
    this.#honestNames.add(name);
  }

  /** `name` holds both roles (its REGISTERED answers arrived). */
  memberUp(name: string): void {
    this.#honestNames.add(name);
    const epoch = (this.#epochs.get(name) ?? 0) + 1;
    this.#epochs.set(name, epoch);
    this.#members.set(name, epoch);
  }

  /** `name` lost its registration (call before closing a member on purpose). */
  memberDown(name: string): void {
    this.#members.delete(name);
  }

  /** An honest client wrote `SEND to` with `body` (made by `body()`) on sending connection `conn`. */
  send(conn: string, from: string, to: string, body: Uint8Array): void {
    const id = idOf(body);
    if (id === undefined) throw new Error("honest bodies come from checker.body()");
    const audience = new Map<string, number>();
    if (to === "ALL") for (const [name, epoch] of this.#members) if (name !== from) audience.set(name, epoch);
    const record: SendRecord = { id, from, to, body, audience, forwardedTo: new Set(), ackedBy: new Set() };
    this.#sends.set(id, record);
    let queue = this.#outstanding.get(conn);
    if (queue === undefined) this.#outstanding.set(conn, (queue = []));
    queue.push(record);
    this.counts.sends++;
  }

  /** A reply arrived on sending connection `conn`: `SENT <to>` or `ERROR <code>`. */
  reply(conn: string, verb: string, arg: string): void {
    const record = this.#outstanding.get(conn)?.shift();
    const what = `${verb} ${arg}`;
    if (record === undefined) return this.#violate(`${conn}: reply "${what}" with no SEND outstanding`);
    this.counts.replies++;
    this.#retire(record);
    if (verb === "ERROR" && arg === "102") {
      this.counts.failed++;
      return;
    }
    if (verb !== "SENT") return this.#violate(`${conn}: SEND ${record.id} to ${record.to} answered "${what}"`);
    if (arg !== record.to) return this.#violate(`${conn}: SEND ${record.id} to ${record.to} answered "SENT ${arg}" (replies out of order?)`);
    this.counts.sent++;
    // PROTOCOL.md §4: no false success. The recipient's RECEIVED was written in
    // this process before the server could have seen it, so it must be recorded by now.
    if (record.to !== "ALL") {
      if (!record.ackedBy.has(record.to)) this.#violate(`SENT ${record.to} for ${record.id} from ${record.from}, but ${record.to} never answered RECEIVED for it`);
      return;
    }
    for (const [name, epoch] of record.audience) {
      if (this.#members.get(name) !== epoch) continue; // left meanwhile: the server may have dropped it
      if (!record.ackedBy.has(name)) this.#violate(`SENT ALL for ${record.id} from ${record.from}, but ${name} never answered RECEIVED for it`);
    }
  }

  /** An honest receiving connection of `to` got `FORWARD from` with `body`. */
  forward(to: string, from: string, body: Uint8Array): void {
    this.counts.forwards++;
    const id = idOf(body);
    if (id === undefined || !id.startsWith(`${this.#run}.`)) {
      if (this.#honestNames.has(from)) this.#violate(`${to} got a FORWARD from honest ${from} with a body no honest client sent: ${JSON.stringify(new TextDecoder().decode(body.subarray(0, 60)))}`);
      return;
    }
    const record = this.#sends.get(id);
    if (record === undefined) {
      if (this.#retain === Number.POSITIVE_INFINITY) this.#violate(`${to} got a FORWARD of unknown message ${id}`);
      return;
    }
    if (from !== record.from) this.#violate(`${to} got ${id} as FORWARD ${from}, but ${record.from} sent it`);
    if (record.to !== to && !(record.to === "ALL" && to !== record.from)) this.#violate(`${to} got ${id}, which ${record.from} sent to ${record.to}`);
    if (record.forwardedTo.has(to)) this.#violate(`${to} got ${id} twice`);
    record.forwardedTo.add(to);
    if (!Buffer.from(body).equals(Buffer.from(record.body))) {
      this.#violate(`${to} got ${id} with a body that differs from the one sent (${body.length} vs ${record.body.length} bytes)`);
    }
  }

  /** `to` wrote `RECEIVED` for the FORWARD whose body is `body`. */
  received(to: string, body: Uint8Array): void {
    this.counts.acks++;
    const id = idOf(body);
    if (id !== undefined) this.#sends.get(id)?.ackedBy.add(to);
  }

  /** The oldest unanswered SEND on `conn` died with its connection (a client that reports losses one by one). */
  lost(conn: string): void {
    const record = this.#outstanding.get(conn)?.shift();
    if (record === undefined) return this.#violate(`${conn}: a SEND reported lost with none outstanding`);
    this.counts.lost++;
    this.#retire(record);
  }

  /** Sending connection `conn` closed; what its unanswered SENDs mean depends on why. */
  senderClosed(conn: string, policy: LossPolicy): void {
    const queue = this.#outstanding.get(conn) ?? [];
    this.#outstanding.delete(conn);
    for (const record of queue) {
      this.counts.lost++;
      if (policy === "strict") this.#violate(`${conn} closed with SEND ${record.id} to ${record.to} unanswered`);
      if (policy === "read-means-answered" && record.forwardedTo.size > 0) {
        this.#violate(`${conn} closed with SEND ${record.id} unanswered, though the server forwarded it to ${[...record.forwardedTo].join(", ")}`);
      }
      this.#retire(record);
    }
  }

  /** SENDs to `to` still waiting for a reply (only those from `from`, if given). */
  outstandingTo(to: string, from?: readonly string[]): number {
    return [...this.#outstanding.values()].flat().filter((record) => record.to === to && (from === undefined || from.includes(record.from))).length;
  }

  /** The final word: everything answered, no violation. Returns the violations (empty when all held). */
  verify(): string[] {
    for (const [conn, queue] of this.#outstanding) {
      for (const record of queue) this.#violate(`${conn}: SEND ${record.id} to ${record.to} never answered`);
    }
    return this.violations;
  }

  /** One line for logs and assertion messages. */
  summary(): string {
    const c = this.counts;
    return `${c.sends} sends, ${c.replies} replies (${c.sent} SENT, ${c.failed} ERROR 102), ${c.lost} lost with their connection, ${c.forwards} forwards, ${c.acks} acks, ${this.violations.length} violations`;
  }

  #retire(record: SendRecord): void {
    if (this.#retain === Number.POSITIVE_INFINITY) return;
    this.#answered.push(record.id);
    // Late FORWARDs of a retired message can still arrive (a broadcast answered
    // ERROR 102 early), so keep the newest `retain` answered records.
    if (this.#answered.length > this.#retain * 2) {
      for (const id of this.#answered.splice(0, this.#answered.length - this.#retain)) this.#sends.delete(id);
    }
  }
}

/** The id after the marker, if `body` starts with one (ids are ASCII and end within 200 bytes). */
function idOf(body: Uint8Array): string | undefined {
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.length, 201)).toString("latin1");
  const end = head.indexOf("\n", marker.length);
  return head.startsWith(marker) && end >= 0 ? head.slice(marker.length, end) : undefined;
}
