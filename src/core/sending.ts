// A connection's SENDs (docs/protocol.md §4, D32): each costs its message once
// per recipient, charged as soon as delivery knows how many (and once anyway
// if it is refused before any), and is answered by its Transaction, settled
// later, or at once by ERROR 102.

import type { Admit } from "./delivery.ts";
import type { Grants } from "./grants.ts";
import type { Hub } from "./hub.ts";
import type { Pacing } from "./pacing.ts";
import { FailReason } from "./reasons.ts";
import { Transaction } from "./transaction.ts";

export class Sending {
  readonly #hub: Hub;
  readonly #pacing: Pacing;
  readonly #grants: Grants;
  // The cost of the SEND being admitted, per recipient, and whether #admit charged it.
  #cost = 0;
  #admitted = false;

  constructor(hub: Hub, pacing: Pacing, grants: Grants) {
    this.#hub = hub;
    this.#pacing = pacing;
    this.#grants = grants;
  }

  /** Delivers `body` from `from` to `to`, costing `cost` per recipient; returns its answer. */
  send(from: string, to: string, body: Uint8Array, cost: number): Transaction | Uint8Array {
    this.#cost = cost;
    this.#admitted = false;
    const sent = this.#hub.delivery.send(from, to, body, this.#admit);
    // docs/protocol.md D32: every message costs, a SEND refused before any recipient too.
    if (!this.#admitted) this.#pacing.spend(1, cost);
    if (sent instanceof Transaction) return sent;
    if (this.#hub.events.wants("send.failed")) this.#hub.events.emit({ type: "send.failed", from, to, reason: sent });
    this.#hub.metrics.failedTotal++;
    return this.#grants.unableToSend(sent);
  }

  /** docs/protocol.md D32: a SEND costs its message once per recipient, and one costing more than a burst is refused. */
  readonly #admit: Admit = (recipients) => {
    this.#admitted = true;
    return this.#pacing.admit(recipients, this.#cost) ? undefined : FailReason.RateLimited;
  };
}
