// The directory of a cluster node (docs/protocol.md D56): this node's own
// users in a LocalDirectory, as on a single node, and every name in the
// cluster in the names bucket, claimed atomically (create, or compare-and-set
// over a dead node's or an expired reservation's entry). A watch of the
// bucket keeps a map of the whole cluster here, so lookups on the SEND path
// stay synchronous; a miss asks the bucket before answering "unknown", so a
// user who registered a moment ago on another node is found.

import type { KV } from "@nats-io/kv";
import type { User, ClaimRefusal, Directory, PresenceListener } from "../core/directory.ts";
import type { Endpoint } from "../core/endpoint.ts";
import type { EventSink } from "../core/events.ts";
import type { LocalDirectory } from "../core/local-directory.ts";
import { CloseReason, FailReason } from "../core/reasons.ts";
import type { Role } from "../protocol/messages.ts";
import { nameKey } from "../protocol/names.ts";
import { claimRefusal, decodeClaim, encodeClaim, type Entry } from "./claim.ts";
import { RemoteEndpoint, type Courier } from "./courier.ts";
import { follow, type Follower } from "./follow.ts";
import type { NodeWatcher, Nodes } from "./nodes.ts";

export class ClusterDirectory implements Directory, NodeWatcher {
  #local!: LocalDirectory;
  readonly #kv: KV;
  readonly #nodes: Nodes;
  readonly #courier: Courier;
  readonly #events: EventSink;
  #graceMs = 0;
  /** Every claim in the cluster, from the watch (this node's too). */
  readonly #entries = new Map<string, Entry>();
  readonly #endpoints = new Map<string, RemoteEndpoint>();
  /** Each entry this node wrote and still owns: its revision, and the name as it registered. */
  readonly #mine = new Map<string, { revision: number; readonly name: string }>();
  /**
   * Users registered here whose registration the bucket has not confirmed yet,
   * with their receiving endpoint: nobody sees them until it has (docs/protocol.md D64), so no
   * FORWARD or notice about them is written before their REGISTERED.
   */
  readonly #confirming = new Map<string, Endpoint | undefined>();
  /** The name whose claim the local directory is deciding right now (it decides synchronously). */
  #deciding: string | undefined;
  // Claims and releases of one name run one after another on this node.
  readonly #queues = new Map<string, Promise<unknown>>();
  #listener: PresenceListener | undefined;
  #follower: Follower | undefined;
  #stopped = false;

  constructor(kv: KV, nodes: Nodes, courier: Courier, events: EventSink) {
    this.#kv = kv;
    this.#nodes = nodes;
    this.#courier = courier;
    this.#events = events;
  }

  /** The server's own directory of this node's users: the cluster is joined before the server exists. */
  attach(local: LocalDirectory, graceMs: number): this {
    this.#local = local;
    this.#graceMs = graceMs;
    local.watch((name, online) => {
      const key = nameKey(name);
      // A user this node is registering is announced once the bucket confirmed it; if it ends before, never.
      if (key !== this.#deciding && !this.#confirming.has(key)) this.#listener?.(name, online);
    });
    // A process started under the name of one that died holds none of its users: their entries go now, not when it is judged dead.
    this.reconcile();
    return this;
  }

  /** A user of this node, for a FORWARD from another node. */
  localReceiver(name: string): Endpoint | undefined {
    return this.#confirming.has(nameKey(name)) ? undefined : this.#local?.lookup(name);
  }

  /** Starts following the bucket (checked every `checkMs`); resolves once the names already claimed are known. */
  async start(checkMs: number): Promise<void> {
    const { promise: current, resolve } = Promise.withResolvers<void>();
    this.#follower = await follow(
      this.#kv,
      (entry) => {
        if (this.#stopped) return;
        this.#apply(entry.key, decodeClaim(entry), entry.revision);
        // The bucket's current values come first, counting down to 0; then updates.
        if (entry.isUpdate || (entry.delta ?? 0) === 0) resolve();
      },
      checkMs,
    );
    // An empty bucket delivers nothing to wait for.
    const status = await this.#kv.status();
    if (status.values === 0) resolve();
    await current;
  }

  get size(): number {
    return this.#local.size;
  }

  claim(name: string, role: Role, endpoint: Endpoint): Promise<User | ClaimRefusal> {
    return this.#serially(nameKey(name), () => this.#claim(name, role, endpoint));
  }

  release(name: string, endpoint: Endpoint, reserve: boolean): void {
    const key = nameKey(name);
    const held = this.#local.holds(key);
    this.#local.release(name, endpoint, reserve);
    if (!held || this.#local.holds(key)) return;
    void this.#serially(key, () => this.#giveBack(key, reserve ? endpoint.address : undefined));
  }

  lookup(name: string): Endpoint | undefined | Promise<Endpoint | undefined> {
    const local = this.#local.lookup(name);
    if (local !== undefined) return this.#confirming.size > 0 && this.#confirming.has(nameKey(name)) ? undefined : local;
    const key = nameKey(name);
    const known = this.#reachable(key, this.#entries.get(key));
    if (known !== undefined || this.#stopped || !this.#courier.up) return known;
    // docs/protocol.md D56: not known here (yet) as registered is not "unknown": ask the bucket.
    return this.#kv.get(key).then(
      (fresh) => {
        if (fresh !== null) this.#apply(key, decodeClaim(fresh), fresh.revision);
        return this.#reachable(key, this.#entries.get(key));
      },
      () => undefined,
    );
  }

  receivers(except: string): Endpoint[] {
    const confirming = [...this.#confirming.values()];
    const receivers = this.#local.receivers(except).filter((receiver) => !confirming.includes(receiver));
    const skip = nameKey(except);
    for (const key of this.#entries.keys()) {
      const remote = key === skip ? undefined : this.#reachable(key, this.#entries.get(key));
      if (remote !== undefined) receivers.push(remote);
    }
    return receivers;
  }

  *online(): Iterable<string> {
    for (const name of this.#local.online()) if (!this.#confirming.has(nameKey(name))) yield name;
    for (const [key, entry] of this.#entries) if (this.#reachable(key, entry) !== undefined) yield entry.name;
  }

  watch(listener: PresenceListener): void {
    this.#listener = listener;
  }

  /** Stopping: the names go back at once, not after the lease. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#follower?.stop();
    await Promise.all([...this.#queues.values()]);
    await Promise.all([...this.#mine].map(([key, { revision }]) => this.#kv.delete(key, { previousSeq: revision }).catch(() => {})));
    this.#mine.clear();
  }

  // NodeWatcher

  changed(node: string, alive: boolean): void {
    for (const entry of this.#entries.values()) if (entry.node === node && entry.registered) this.#listener?.(entry.name, alive);
    if (!alive) this.#courier.failNode(node, FailReason.Disconnected);
  }

  suspect(node: string): void {
    this.#courier.failNode(node, FailReason.Disconnected);
  }

  fenced(fenced: boolean): void {
    if (!fenced) {
      this.#events.emit({ type: "cluster.unfenced", node: this.#nodes.name });
      return this.reconcile();
    }
    // docs/protocol.md D57: names this node cannot prove are served no longer, before anyone else may take them.
    const users = this.#local?.closeAll(CloseReason.Fenced) ?? 0;
    this.#events.emit({ type: "cluster.fenced", node: this.#nodes.name, users });
    this.#courier.failAll(FailReason.ClusterDown);
  }

  async #claim(name: string, role: Role, endpoint: Endpoint): Promise<User | ClaimRefusal> {
    // docs/protocol.md D60: without the bus no claim can be proven; ERROR 106 now rather than after the key-value timeout.
    if (this.#nodes.fenced || this.#stopped || !this.#courier.up) return "unavailable";
    const key = nameKey(name);
    const fresh = !this.#local.holds(key);
    if (fresh) {
      const taken = await this.#take(key, name, endpoint.address);
      if (taken !== undefined) return taken;
    }
    this.#deciding = key;
    const claimed = this.#local.claim(name, role, endpoint);
    this.#deciding = undefined;
    const user = await claimed;
    if (typeof user === "string" && fresh && !this.#local.holds(key)) await this.#giveBack(key, undefined);
    else if (typeof user === "object" && user.registered) {
      // docs/protocol.md D56: REGISTERED is answered once the cluster can find the user, so a SEND right after it reaches them.
      this.#confirming.set(key, user.receiver);
      await this.#markRegistered(key);
      this.#confirming.delete(key);
      if (this.#local.lookup(key) !== undefined) this.#listener?.(user.name, true);
    }
    return user;
  }

  /** Claims `key` in the bucket for this node; undefined when it is ours now. */
  async #take(key: string, name: string, address: string): Promise<ClaimRefusal | undefined> {
    const value = encodeClaim({ name, node: this.#nodes.name, registered: false });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const current = await this.#kv.get(key);
        const held = current === null ? undefined : decodeClaim(current);
        if (held !== undefined) {
          const refusal = claimRefusal(held, address, this.#nodes.name, (node) => this.#nodes.alive(node));
          if (refusal !== undefined) {
            this.#events.emit({ type: "cluster.claim-refused", user: name, heldBy: held.node, why: refusal });
            return "taken";
          }
        }
        try {
          const revision = current === null ? await this.#kv.create(key, value) : await this.#kv.update(key, value, current.revision);
          this.#mine.set(key, { revision, name });
          return undefined;
        } catch (error) {
          // Someone else wrote it between the read and the write: read again.
          if ((error as { code?: number }).code !== 10071 && !String(error).includes("wrong last sequence")) throw error;
        }
      }
      return "taken";
    } catch (error) {
      this.#events.emit({ type: "cluster.problem", node: this.#nodes.name, what: `claim ${name}`, error: String((error as Error)?.message ?? error) });
      return "unavailable";
    }
  }

  async #markRegistered(key: string): Promise<void> {
    const mine = this.#mine.get(key);
    if (mine === undefined || !this.#local.holds(key)) return;
    const { name } = mine;
    try {
      mine.revision = await this.#kv.update(key, encodeClaim({ name, node: this.#nodes.name, registered: true }), mine.revision);
    } catch (error) {
      this.#events.emit({ type: "cluster.problem", node: this.#nodes.name, what: `register ${name}`, error: String((error as Error)?.message ?? error) });
    }
  }

  /** The name is no longer held here: delete it, or keep it a grace for `keptFor` (docs/protocol.md §6 "Names"). */
  async #giveBack(key: string, keptFor: string | undefined): Promise<void> {
    const mine = this.#mine.get(key);
    if (mine === undefined || this.#local.holds(key)) return;
    this.#mine.delete(key);
    // Without the bus the entry stays until it is back (reconcile), rather than hold this name's queue for the key-value timeout.
    if (!this.#courier.up) return;
    const { revision, name } = mine;
    try {
      if (keptFor === undefined || this.#graceMs === 0 || this.#stopped) return await this.#kv.delete(key, { previousSeq: revision });
      const until = Date.now() + this.#graceMs;
      const kept = await this.#kv.update(key, encodeClaim({ name, node: this.#nodes.name, registered: false, keptFor, until }), revision);
      setTimeout(() => void this.#serially(key, () => this.#expire(key, kept)), this.#graceMs);
    } catch {
      // The bus is away: the entry is reconciled once this node's lease is back, or taken over once it is dead.
    }
  }

  async #expire(key: string, revision: number): Promise<void> {
    if (this.#local.holds(key)) return;
    await this.#kv.delete(key, { previousSeq: revision }).catch(() => {});
  }

  /**
   * At start, after a fence, or the bus back (docs/protocol.md D65): entries
   * this node wrote but no longer holds are deleted, each in turn with the
   * claims of its name; a reservation still running is left to its timer.
   */
  reconcile(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.node !== this.#nodes.name || (entry.keptFor !== undefined && (entry.until ?? 0) > Date.now())) continue;
      void this.#serially(key, async () => {
        const stale = this.#entries.get(key);
        if (stale === undefined || stale.node !== this.#nodes.name || this.#local.holds(key)) return;
        this.#mine.delete(key);
        await this.#kv.delete(key, { previousSeq: stale.revision }).catch(() => {});
      });
    }
  }

  /** One update from the bucket (or a fresh read), applied if it is newer than what is known. */
  #apply(key: string, entry: Entry | undefined, revision: number): void {
    const before = this.#entries.get(key);
    if (before !== undefined && before.revision > revision) return;
    const wasOnline = before !== undefined && this.#reachable(key, before) !== undefined;
    if (entry === undefined) this.#entries.delete(key);
    else this.#entries.set(key, entry);
    this.#endpoints.delete(key);
    const online = entry !== undefined && this.#reachable(key, entry) !== undefined;
    if (wasOnline && (!online || before.name !== entry?.name)) this.#listener?.(before.name, false);
    if (online && (!wasOnline || before.name !== entry.name)) this.#listener?.(entry.name, true);
  }

  /** The endpoint of a user registered on another, live node. */
  #reachable(key: string, entry: Entry | undefined): RemoteEndpoint | undefined {
    if (entry === undefined || !entry.registered || entry.node === this.#nodes.name || !this.#nodes.alive(entry.node)) return undefined;
    let endpoint = this.#endpoints.get(key);
    if (endpoint === undefined || endpoint.node !== entry.node) this.#endpoints.set(key, (endpoint = new RemoteEndpoint(entry.name, entry.node, this.#courier)));
    return endpoint;
  }

  #serially<T>(key: string, step: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(key) ?? Promise.resolve();
    const next = before.then(step, step);
    const tail = next.catch(() => {});
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return next;
  }
}
