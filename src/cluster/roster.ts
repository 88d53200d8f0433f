// What this node knows of every claim in the cluster (docs/protocol.md D58):
// the names bucket as its watch delivered it, which of those users can be
// reached on another live node, and the presence changes that follow from a
// claim changing or a node dying. Lookups on the SEND path read this, never
// the bus.

import type { PresenceListener } from "../core/directory.ts";
import type { Entry } from "./claim.ts";
import { RemoteEndpoint, type Courier } from "./courier.ts";

export class Roster {
  readonly #self: string;
  readonly #alive: (node: string) => boolean;
  readonly #courier: Courier;
  /** Every claim in the cluster, this node's too. */
  readonly #entries = new Map<string, Entry>();
  readonly #endpoints = new Map<string, RemoteEndpoint>();
  /** The revision of the delete of each name deleted since this node started following the bucket. */
  readonly #gone = new Map<string, number>();
  /** Told when a user on another node comes online or goes. */
  listener: PresenceListener | undefined;
  /** Told after every update applied (the registration barrier waits on these). */
  onApplied: () => void = () => {};

  constructor(self: string, alive: (node: string) => boolean, courier: Courier) {
    this.#self = self;
    this.#alive = alive;
    this.#courier = courier;
  }

  get(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<[string, Entry]> {
    return this.#entries.entries();
  }

  /** The revision of `key` applied here (0: none). */
  applied(key: string): number {
    return this.#entries.get(key)?.revision ?? this.#gone.get(key) ?? 0;
  }

  /** One update from the bucket (or a fresh read), applied if it is newer than what is known. */
  apply(key: string, entry: Entry | undefined, revision: number): void {
    const before = this.#entries.get(key);
    if (before !== undefined && before.revision > revision) return;
    const wasOnline = before !== undefined && this.reachable(key) !== undefined;
    if (entry === undefined) {
      this.#entries.delete(key);
      // Only a barrier waiting at this moment needs it: kept boundedly.
      if (this.#gone.size >= 10_000) this.#gone.clear();
      this.#gone.set(key, revision);
    } else {
      this.#entries.set(key, entry);
      this.#gone.delete(key);
    }
    this.#endpoints.delete(key);
    this.onApplied();
    const online = entry !== undefined && this.reachable(key) !== undefined;
    if (wasOnline && (!online || before.name !== entry?.name)) this.listener?.(before.name, false);
    if (online && (!wasOnline || before.name !== entry.name)) this.listener?.(entry.name, true);
  }

  /** The endpoint of `key`'s user when it is registered on another, live node. */
  reachable(key: string): RemoteEndpoint | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || !entry.registered || entry.node === this.#self || !this.#alive(entry.node)) return undefined;
    let endpoint = this.#endpoints.get(key);
    if (endpoint === undefined || endpoint.node !== entry.node) this.#endpoints.set(key, (endpoint = new RemoteEndpoint(entry.name, entry.node, this.#courier)));
    return endpoint;
  }

  /** How many reachable users each other node has, `skip` aside. */
  usersPerNode(skip: string): Map<string, number> {
    const perNode = new Map<string, number>();
    for (const [key, entry] of this.#entries) if (key !== skip && this.reachable(key) !== undefined) perNode.set(entry.node, (perNode.get(entry.node) ?? 0) + 1);
    return perNode;
  }

  /** The names of the users reachable on other nodes. */
  *online(): Iterable<string> {
    for (const [key, entry] of this.#entries) if (this.reachable(key) !== undefined) yield entry.name;
  }

  /** `node` came back or went: its users did too. */
  nodeChanged(node: string, alive: boolean): void {
    for (const entry of this.#entries.values()) if (entry.node === node && entry.registered) this.listener?.(entry.name, alive);
  }
}
