// SEND -> FORWARD(s) -> answers -> SENT or ERROR 102 (PROTOCOL.md §4), for
// one recipient or for ALL. It sees only the registry and endpoints, never a
// socket, so any transport (or a peer node) can carry the FORWARDs.

import { BROADCAST } from "../protocol/names.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Registry } from "./registry.ts";
import { FailReason, Transaction } from "./transaction.ts";

export class Delivery {
  readonly #registry: Registry;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /**
   * Forwards `body` from `from` to `to` (a name or ALL) behind `head`, the
   * sender's `FORWARD <from>` header for this body (the sender's connection
   * keeps it encoded). Returns the pending transaction, or a reason when nothing
   * was forwarded (ERROR 102 at once).
   */
  send(from: string, to: string, head: Uint8Array, body: Uint8Array): Transaction | FailReason {
    if (to === BROADCAST) return this.#broadcast(from, head, body);
    // An unknown, half-registered or invalid name is simply not registered.
    const user = this.#registry.registered(to);
    if (user === undefined) return FailReason.NoRecipient;
    const tx = new Transaction(from, to, 1);
    return user.receiver!.forward(tx, head, body) ? tx : FailReason.QueueFull;
  }

  // PROTOCOL.md §4: every registered user but the sender; SENT ALL only when all
  // of them answered. A recipient that cannot take it fails the whole SEND,
  // but the others still get the message: their copies are not taken back.
  #broadcast(from: string, head: Uint8Array, body: Uint8Array): Transaction | FailReason {
    // The endpoints, taken before the loop: a FORWARD can close a recipient, and
    // that close chain can end a later user's registration mid-loop. A closed
    // endpoint refuses the FORWARD, which fails the SEND like a full queue.
    const receivers: Endpoint[] = [];
    for (const user of this.#registry.registeredUsers()) if (user.name !== from) receivers.push(user.receiver!);
    if (receivers.length === 0) return FailReason.NoRecipient;
    const tx = new Transaction(from, BROADCAST, receivers.length);
    for (const receiver of receivers) {
      if (!receiver.forward(tx, head, body)) tx.fail(FailReason.QueueFull);
    }
    return tx;
  }
}
