// SEND -> FORWARD(s) -> answers -> SENT or ERROR 102 (docs/protocol.md §4), for
// one recipient or for ALL (D15: a recipient over its sender's share fails the
// SEND, and the others still get it). It sees only the directory and endpoints, never a
// socket, and never knows whether a recipient is local.

import { BROADCAST, isBroadcast } from "../protocol/names.ts";
import type { Directory } from "./directory.ts";
import type { Endpoint } from "./endpoint.ts";
import { silentEvents, type EventSink } from "./events.ts";
import { FailReason } from "./reasons.ts";
import { Transaction } from "./transaction.ts";

/** Whether a SEND to `recipients` people may go; a reason when it may not. */
export type Admit = (recipients: number) => FailReason | undefined;

const admitAll: Admit = () => undefined;

export class Delivery {
  readonly #directory: Directory;
  readonly #events: EventSink;
  readonly #clock: { readonly now: number } | undefined;

  constructor(directory: Directory, events: EventSink = silentEvents, clock?: { readonly now: number }) {
    this.#directory = directory;
    this.#events = events;
    this.#clock = clock;
  }

  /**
   * Forwards `body` from `from` to `to` (a name or ALL). `admit` is asked,
   * once the number of recipients is known, whether the sender may afford it.
   * Returns the pending transaction, or why nothing was forwarded (ERROR 102 at once).
   */
  send(from: string, to: string, body: Uint8Array, admit: Admit = admitAll): Transaction | FailReason {
    if (isBroadcast(to)) return this.#broadcast(from, body, admit);
    // An unknown, half-registered or invalid name is simply not registered.
    const receiver = this.#directory.lookup(to);
    if (receiver === undefined) return FailReason.NoRecipient;
    const refused = admit(1);
    if (refused !== undefined) return refused;
    if (!(receiver instanceof Promise)) {
      // docs/protocol.md §6: SENT names the recipient as it registered.
      const tx = new Transaction(from, receiver.name ?? to, 1, this.#clock?.now);
      return receiver.forward(tx, body) ?? tx;
    }
    const tx = new Transaction(from, to, 1, this.#clock?.now);
    // The directory had to ask further: the SEND waits in its place in the reply order.
    receiver.then(
      (found) => {
        // The SEND may have been answered meanwhile (its sender left): then it must not be delivered.
        if (tx.settled) return;
        if (found?.name !== undefined) tx.found(found.name);
        const failure = found === undefined ? FailReason.NoRecipient : found.forward(tx, body);
        if (failure !== undefined) tx.fail(failure);
      },
      () => tx.fail(FailReason.NoRecipient),
    );
    return tx;
  }

  // docs/protocol.md §4: every registered user but the sender; SENT ALL only
  // when all of them answered. A recipient that cannot take it fails the whole
  // SEND, but the others still get the message (D15).
  #broadcast(from: string, body: Uint8Array, admit: Admit): Transaction | FailReason {
    // The endpoints, taken before the loop: a FORWARD can close a recipient, and
    // that close chain can end a later user's registration mid-loop. A closed
    // endpoint refuses the FORWARD, which fails the SEND like a full queue.
    const receivers: Endpoint[] = this.#directory.receivers(from);
    if (receivers.length === 0) return FailReason.NoRecipient;
    // D32: the sender pays per user, however many of them an endpoint stands for.
    let recipients = 0;
    for (const receiver of receivers) recipients += receiver.recipients ?? 1;
    const refused = admit(recipients);
    if (refused !== undefined) return refused;
    const tx = new Transaction(from, BROADCAST, receivers.length, this.#clock?.now);
    for (const receiver of receivers) {
      const failure = receiver.forward(tx, body);
      if (failure === undefined) continue;
      tx.fail(failure);
      // D29: counted per recipient that refused, so a metric shows how often one idle user fails broadcasts.
      if (this.#events.wants("broadcast.refused")) this.#events.emit({ type: "broadcast.refused", from, to: receiver.name, reason: failure });
    }
    return tx;
  }
}
