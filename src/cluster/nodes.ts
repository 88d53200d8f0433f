// Which nodes are alive, and this node's own lease (docs/protocol.md D59).
// Per-key TTL does not work on the NATS server this targets, so liveness is
// heartbeats: each node rewrites its entry in the nodes bucket every
// heartbeatMs (compare-and-set on its own revision, so two processes cannot
// share a node name), and every node watches the bucket. A node is dead to the
// others deadMs after the last heartbeat they saw; it fences itself (stops
// serving its names) fenceMs after its last heartbeat that JetStream
// confirmed. fenceMs < deadMs, so a node always stops before its names can be
// taken. fenceMs outlasts a JetStream leader election (docs/protocol.md D64):
// when the NATS server leading the bucket dies, nobody can write for the 4-9 s
// a follower waits before it campaigns, and a shorter lease would fence every
// node at once. Transactions in flight use the faster core-NATS beat
// (suspectMs): no JetStream in that path, so it keeps working meanwhile.

import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { EventSink } from "../core/events.ts";
import { follow, type Follower } from "./follow.ts";

export type LeaseTimes = {
  readonly heartbeatMs: number;
  readonly fenceMs: number;
  readonly deadMs: number;
  /** A node silent this long on core NATS has its transactions failed (ERROR 102). */
  readonly suspectMs: number;
};

export const defaultLeaseTimes: LeaseTimes = { heartbeatMs: 1000, fenceMs: 15_000, deadMs: 20_000, suspectMs: 2000 };

export type NodeWatcher = {
  /** A node's state changed as this node sees it. */
  changed(node: string, alive: boolean): void;
  /** A node stopped beating on core NATS, or beats from a new connection: fail what waits for it. */
  suspect(node: string): void;
  /** This node can no longer prove its lease (true), or can again (false). */
  fenced(fenced: boolean): void;
};

/** Node names are NATS subject tokens and key-value keys. */
export const nodeNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

const beatSubject = (node: string) => `parley.node.${node}.beat`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Nodes {
  readonly name: string;
  readonly #kv: KV;
  readonly #nc: NatsConnection;
  readonly #times: LeaseTimes;
  readonly #events: EventSink;
  readonly #up: () => boolean;
  #watcher: NodeWatcher | undefined;
  #revision = 0;
  /** When the last heartbeat JetStream confirmed was sent (performance.now()). */
  #renewedAt = 0;
  #fenced = false;
  // Others: when this node last saw their heartbeat in the bucket, and on core NATS.
  readonly #seen = new Map<string, number>();
  readonly #alive = new Set<string>();
  readonly #beats = new Map<string, number>();
  /** The connection each other node last beat from (its beats carry it). */
  readonly #connections = new Map<string, string>();
  /** This node's connection to NATS, as its beats tell the others: this process, and how often it reconnected. */
  readonly #incarnation = Math.random().toString(36).slice(2, 10);
  #reconnects = 0;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #beatSubscription: Subscription | undefined;
  #follower: Follower | undefined;
  #stopped = false;

  /** `up`: whether the connection to NATS is up now. */
  constructor(nc: NatsConnection, kv: KV, name: string, events: EventSink, times: LeaseTimes, up: () => boolean) {
    this.#up = up;
    this.#nc = nc;
    this.#kv = kv;
    this.name = name;
    this.#events = events;
    this.#times = times;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** Since this node's last heartbeat that the bucket confirmed (ms). */
  get leaseAgeMs(): number {
    return performance.now() - this.#renewedAt;
  }

  /**
   * The bus is back, perhaps through another NATS server: what the others had
   * in flight to this node may have been lost with the old connection, and they
   * learn it from this beat on. The lease is proven now, not at the next heartbeat.
   */
  reconnected(): void {
    this.#reconnects++;
    void this.#heartbeat();
  }

  /** Other nodes alive as far as this node knows. */
  get aliveCount(): number {
    return this.#alive.size;
  }

  /** The other live nodes. */
  others(): string[] {
    return [...this.#alive];
  }

  /** Whether `node` holds a valid lease as far as this node knows (this node: whether it is not fenced). */
  alive(node: string): boolean {
    return node === this.name ? !this.#fenced : this.#alive.has(node);
  }

  /** Takes this node's name in the cluster; refuses one a live node holds. */
  async join(watcher: NodeWatcher): Promise<void> {
    this.#watcher = watcher;
    const value = this.#value();
    const sentAt = performance.now();
    try {
      this.#revision = await this.#kv.create(this.name, value);
    } catch {
      // Taken: by a live node (it beats within a heartbeat or two), or by a dead one to take over.
      const entry = await this.#kv.get(this.name);
      const revision = entry?.revision ?? 0;
      const beat = await this.#nextBeat(this.name, this.#times.heartbeatMs * 2.5);
      if (beat) throw new Error(`a live node is already called ${JSON.stringify(this.name)}: choose another --node-name`);
      this.#revision = await this.#kv.update(this.name, value, revision);
    }
    this.#renewedAt = sentAt;
    this.#follower = await follow(this.#kv, (entry) => this.#see(entry), this.#times.heartbeatMs);
    this.#beatSubscription = this.#nc.subscribe(beatSubject("*"), {
      callback: (_error, msg) => {
        const node = msg.subject.split(".")[2]!;
        if (node === this.name) return;
        this.#beats.set(node, performance.now());
        // docs/protocol.md D65: a FORWARD sent to its old connection may be lost without an answer; fail it now, not at the request timeout.
        const connection = decoder.decode(msg.data);
        const before = this.#connections.get(node);
        this.#connections.set(node, connection);
        // A node first heard from a connection that is not its first (joined here meanwhile) may have lost what was sent to the old one too.
        if (before === undefined ? !connection.endsWith(".0") : before !== connection) this.#watcher?.suspect(node);
      },
    });
    // The others start this node's suspect clock when they see its entry: the first beat goes now, not a heartbeat later.
    this.#beat();
    this.#timers.push(setInterval(() => void this.#heartbeat(), this.#times.heartbeatMs));
    this.#timers.push(setInterval(() => this.#check(), Math.min(250, this.#times.heartbeatMs / 2)));
  }

  /** Leaves at once: the others see this node gone without waiting for deadMs. */
  async leave(): Promise<void> {
    this.stop();
    await this.#kv.delete(this.name, { previousSeq: this.#revision }).catch(() => {});
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    this.#beatSubscription?.unsubscribe();
    this.#follower?.stop();
  }

  #beat(): void {
    this.#nc.publish(beatSubject(this.name), encoder.encode(`${this.#incarnation}.${this.#reconnects}`));
  }

  #value(): Uint8Array {
    return encoder.encode(JSON.stringify({ node: this.name, at: Date.now() }));
  }

  async #heartbeat(): Promise<void> {
    // Without the bus a write would wait in nats.js's buffer and land after it is back, behind this node's next one.
    if (this.#stopped || !this.#up()) return;
    this.#beat();
    const sentAt = performance.now();
    try {
      this.#revision = await this.#kv.update(this.name, this.#value(), this.#revision);
      this.#renewedAt = Math.max(this.#renewedAt, sentAt);
    } catch (error) {
      if (this.#stopped) return;
      this.#events.emit({ type: "cluster.problem", node: this.name, what: "heartbeat", error: String((error as Error)?.message ?? error) });
      // Someone rewrote this node's entry: a second process under this name. Re-read, so the next heartbeat can win it back.
      const entry = await this.#kv.get(this.name).catch(() => null);
      if (entry !== null && entry.operation === "PUT") this.#revision = entry.revision;
    }
  }

  #check(): void {
    const now = performance.now();
    const fenced = now - this.#renewedAt > this.#times.fenceMs;
    if (fenced !== this.#fenced) {
      this.#fenced = fenced;
      // Back from a fence, this node has heard nothing for a while: that says nothing about the others, so they get a fresh deadMs.
      if (!fenced) for (const node of this.#seen.keys()) this.#seen.set(node, now);
      this.#watcher?.fenced(fenced);
    }
    for (const [node, seen] of this.#seen) {
      if (now - seen > this.#times.deadMs && this.#alive.delete(node)) {
        this.#events.emit({ type: "cluster.node", node, state: "dead" });
        this.#watcher?.changed(node, false);
      }
    }
    for (const [node, beat] of this.#beats) {
      if (now - beat > this.#times.suspectMs) {
        this.#beats.delete(node);
        this.#watcher?.suspect(node);
      }
    }
  }

  /** One entry of the nodes bucket, as the watch brings it. */
  #see(entry: KvWatchEntry): void {
    if (this.#stopped || entry.key === this.name) return;
    if (entry.operation !== "PUT") {
      this.#seen.delete(entry.key);
      this.#connections.delete(entry.key);
      if (this.#alive.delete(entry.key)) {
        this.#events.emit({ type: "cluster.node", node: entry.key, state: "left" });
        this.#watcher?.changed(entry.key, false);
      }
      return;
    }
    // The first values are the bucket as it is: entries written long ago count as heard from that long ago.
    const age = entry.isUpdate ? 0 : Math.max(0, Date.now() - entry.created.getTime());
    this.#seen.set(entry.key, performance.now() - age);
    if (age < this.#times.deadMs && !this.#alive.has(entry.key)) {
      this.#alive.add(entry.key);
      // A node never heard on core NATS (it died right after joining, or froze) is suspected like one that went quiet.
      if (!this.#beats.has(entry.key)) this.#beats.set(entry.key, performance.now());
      this.#events.emit({ type: "cluster.node", node: entry.key, state: "alive" });
      this.#watcher?.changed(entry.key, true);
    }
  }

  /** Whether `node` beats on core NATS within `ms`. */
  async #nextBeat(node: string, ms: number): Promise<boolean> {
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const subscription = this.#nc.subscribe(beatSubject(node), { max: 1, callback: () => resolve(true) });
    const timer = setTimeout(() => resolve(false), ms);
    const beat = await promise;
    clearTimeout(timer);
    subscription.unsubscribe();
    return beat;
  }
}
