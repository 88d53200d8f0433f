// Read-your-writes across nodes (docs/protocol.md D58): each node learns of
// claims from its watch of the names bucket, a few milliseconds after they
// are written. A registration is answered only once every live node has
// applied it, so anything that happens after a client read REGISTERED (a
// broadcast on another node, a WHO there) already counts that user.

import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Nodes } from "./nodes.ts";

const seenSubject = (node: string) => `parley.node.${node}.seen`;
/** A node that has not applied a write by then is slow or gone: not worth holding a registration longer. */
const waitMs = 1000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Barrier {
  readonly #nc: NatsConnection;
  readonly #nodes: Nodes;
  /** The revision of `key` this node has applied (0: none). */
  readonly #applied: (key: string) => number;
  #waiters: (() => void)[] = [];
  #subscription: Subscription | undefined;

  constructor(nc: NatsConnection, nodes: Nodes, applied: (key: string) => number) {
    this.#nc = nc;
    this.#nodes = nodes;
    this.#applied = applied;
  }

  /** Answers other nodes asking whether this one applied a write. */
  serve(): void {
    this.#subscription = this.#nc.subscribe(seenSubject(this.#nodes.name), {
      callback: (_error, msg) => {
        const [key = "", revision = "0"] = decoder.decode(msg.data).split(" ");
        void this.#until(key, Number(revision)).then(() => msg.respond());
      },
    });
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.applied();
  }

  /** The watch applied something: wake whoever waits for it. */
  applied(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once every other live node applied `key` at `revision`, or after waitMs. */
  async everywhere(key: string, revision: number): Promise<void> {
    const asking = encoder.encode(`${key} ${revision}`);
    await Promise.all(this.#nodes.others().map((node) => this.#nc.request(seenSubject(node), asking, { timeout: waitMs }).catch(() => undefined)));
  }

  async #until(key: string, revision: number): Promise<void> {
    const deadline = performance.now() + waitMs;
    while (this.#applied(key) < revision && performance.now() < deadline) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push(resolve);
      const timer = setTimeout(resolve, deadline - performance.now());
      await promise;
      clearTimeout(timer);
    }
  }
}
