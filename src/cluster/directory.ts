// The directory of a cluster node (docs/protocol.md D58): this node's own
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
import { BROADCAST, nameKey } from "../protocol/names.ts";
import type { Barrier } from "./barrier.ts";
import { claimRefusal, decodeClaim, encodeClaim, takeClaim } from "./claim.ts";
import { RemoteEndpoint, type Courier } from "./courier.ts";
import { follow, type Follower } from "./follow.ts";
import { InTurn } from "./in-turn.ts";
import type { NodeWatcher, Nodes } from "./nodes.ts";
import { Roster } from "./roster.ts";

export class ClusterDirectory implements Directory, NodeWatcher {
  #local!: LocalDirectory;
  readonly #kv: KV;
  readonly #nodes: Nodes;
  readonly #courier: Courier;
  readonly #events: EventSink;
  #graceMs = 0;
  /** Every claim in the cluster, from the watch. */
  readonly #roster: Roster;
  /** Each entry this node wrote and still owns: its revision, and the name as it registered. */
  readonly #mine = new Map<string, { revision: number; readonly name: string }>();
  // Claims and releases of one name run one after another on this node.
  readonly #inTurn = new InTurn();
  #follower: Follower | undefined;
  #stopped = false;
  #barrier: Barrier | undefined;

  constructor(kv: KV, nodes: Nodes, courier: Courier, events: EventSink) {
    this.#kv = kv;
    this.#nodes = nodes;
    this.#courier = courier;
    this.#events = events;
    this.#roster = new Roster(nodes.name, (node) => nodes.alive(node), courier);
  }

  /** The server's own directory of this node's users: the cluster is joined before the server exists. */
  attach(local: LocalDirectory, graceMs: number): this {
    this.#local = local;
    this.#graceMs = graceMs;
    local.watch((name, online) => this.#roster.listener?.(name, online));
    // A process started under the name of one that died holds none of its users: their entries go now, not when it is judged dead.
    this.reconcile();
    return this;
  }

  /** This node's own users, for FORWARDs from other nodes; undefined until the server exists. */
  get localUsers(): LocalDirectory | undefined {
    return this.#local;
  }

  /** The revision of `key` this node has applied from the bucket (0: none). */
  applied(key: string): number {
    return this.#roster.applied(key);
  }

  /**
   * Starts following the bucket (checked every `checkMs`, docs/protocol.md D63); resolves once the names
   * already claimed are known. Registrations then wait for `barrier`.
   */
  async start(barrier: Barrier, checkMs: number): Promise<void> {
    this.#barrier = barrier;
    this.#roster.onApplied = () => barrier.applied();
    const { promise: current, resolve } = Promise.withResolvers<void>();
    this.#follower = await follow(
      this.#kv,
      (entry) => {
        if (this.#stopped) return;
        this.#roster.apply(entry.key, decodeClaim(entry), entry.revision);
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
    return this.#inTurn.run(nameKey(name), () => this.#claim(name, role, endpoint));
  }

  release(name: string, endpoint: Endpoint, reserve: boolean): void {
    const key = nameKey(name);
    const held = this.#local.holds(key);
    this.#local.release(name, endpoint, reserve);
    if (!held || this.#local.holds(key)) return;
    void this.#inTurn.run(key, () => this.#giveBack(key, reserve ? endpoint.address : undefined));
  }

  lookup(name: string): Endpoint | undefined | Promise<Endpoint | undefined> {
    const local = this.#local.lookup(name);
    if (local !== undefined) return local;
    const key = nameKey(name);
    const known = this.#roster.reachable(key);
    if (known !== undefined || this.#stopped || !this.#courier.up) return known;
    // docs/protocol.md D58: not known here (yet) as registered is not "unknown": ask the bucket.
    return this.#kv.get(key).then(
      (fresh) => {
        if (fresh !== null) this.#roster.apply(key, decodeClaim(fresh), fresh.revision);
        return this.#roster.reachable(key);
      },
      () => undefined,
    );
  }

  /** This node's users, and one endpoint per other live node standing for all of its users (docs/protocol.md D61). */
  receivers(except: string): Endpoint[] {
    const receivers = this.#local.receivers(except);
    for (const [node, users] of this.#roster.usersPerNode(nameKey(except))) receivers.push(new RemoteEndpoint(BROADCAST, node, this.#courier, users));
    return receivers;
  }

  *online(): Iterable<string> {
    yield* this.#local.online();
    yield* this.#roster.online();
  }

  watch(listener: PresenceListener): void {
    this.#roster.listener = listener;
  }

  /** Stopping: the names go back at once, not after the lease (without the bus, they go when this node is seen dead). */
  async close(giveBack = true): Promise<void> {
    this.#stopped = true;
    this.#follower?.stop();
    if (!giveBack) return;
    await this.#inTurn.idle();
    await Promise.all([...this.#mine].map(([key, { revision }]) => this.#kv.delete(key, { previousSeq: revision }).catch(() => {})));
    this.#mine.clear();
  }

  // NodeWatcher

  changed(node: string, alive: boolean): void {
    this.#roster.nodeChanged(node, alive);
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
    // docs/protocol.md D59: names this node cannot prove are served no longer, before anyone else may take them.
    const users = this.#local?.closeAll(CloseReason.Fenced) ?? 0;
    this.#events.emit({ type: "cluster.fenced", node: this.#nodes.name, users });
    this.#courier.failAll(FailReason.ClusterDown);
  }

  async #claim(name: string, role: Role, endpoint: Endpoint): Promise<User | ClaimRefusal> {
    // docs/protocol.md D62: without the bus no claim can be proven; ERROR 106 now rather than after the key-value timeout.
    if (this.#nodes.fenced || this.#stopped || !this.#courier.up) return "unavailable";
    const key = nameKey(name);
    const fresh = !this.#local.holds(key);
    if (fresh) {
      const taken = await this.#take(key, name, endpoint.address);
      if (taken !== undefined) return taken;
    }
    // docs/protocol.md D66: a user this claim completes is seen by nobody here until the cluster is told, so nothing reaches it before its REGISTERED.
    const user = await this.#local.claim(name, role, endpoint, { hidden: true });
    if (typeof user === "string" && fresh && !this.#local.holds(key)) await this.#giveBack(key, undefined);
    // docs/protocol.md D58: REGISTERED is answered once the cluster can find the user, so a SEND right after it reaches them.
    else if (typeof user === "object" && user.registered) {
      const revision = await this.#markRegistered(key);
      if (revision !== undefined) await this.#barrier?.everywhere(key, revision);
      this.#local.reveal(key);
    }
    return user;
  }

  /** Claims `key` in the bucket for this node; undefined when it is ours now. */
  async #take(key: string, name: string, address: string): Promise<ClaimRefusal | undefined> {
    try {
      const taken = await takeClaim(this.#kv, key, { name, node: this.#nodes.name, registered: false }, (held) =>
        claimRefusal(held, address, this.#nodes.name, (node) => this.#nodes.alive(node)),
      );
      if (typeof taken === "number") {
        this.#mine.set(key, { revision: taken, name });
        return undefined;
      }
      this.#events.emit({ type: "cluster.claim-refused", user: name, heldBy: taken.held.node, why: taken.why });
      return "taken";
    } catch (error) {
      this.#events.emit({ type: "cluster.problem", node: this.#nodes.name, what: `claim ${name}`, error: String((error as Error)?.message ?? error) });
      return "unavailable";
    }
  }

  /** Tells the bucket both roles are held; returns the revision written. */
  async #markRegistered(key: string): Promise<number | undefined> {
    const mine = this.#mine.get(key);
    if (mine === undefined || !this.#local.holds(key)) return undefined;
    const { name } = mine;
    try {
      mine.revision = await this.#kv.update(key, encodeClaim({ name, node: this.#nodes.name, registered: true }), mine.revision);
      return mine.revision;
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
      setTimeout(() => void this.#inTurn.run(key, () => this.#expire(key, kept)), this.#graceMs);
    } catch {
      // The bus is away: the entry is reconciled once this node's lease is back, or taken over once it is dead.
    }
  }

  async #expire(key: string, revision: number): Promise<void> {
    if (this.#local.holds(key)) return;
    await this.#kv.delete(key, { previousSeq: revision }).catch(() => {});
  }

  /**
   * At start, after a fence, or the bus back (docs/protocol.md D67): entries
   * this node wrote but no longer holds are deleted, each in turn with the
   * claims of its name; a reservation still running is left to its timer.
   */
  reconcile(): void {
    for (const [key, entry] of this.#roster.entries()) {
      if (entry.node !== this.#nodes.name || (entry.keptFor !== undefined && (entry.until ?? 0) > Date.now())) continue;
      void this.#inTurn.run(key, async () => {
        const stale = this.#roster.get(key);
        if (stale === undefined || stale.node !== this.#nodes.name || this.#local.holds(key)) return;
        this.#mine.delete(key);
        await this.#kv.delete(key, { previousSeq: stale.revision }).catch(() => {});
      });
    }
  }
}
