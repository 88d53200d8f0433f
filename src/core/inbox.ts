// A recipient's FORWARDs written and not yet answered, oldest first, with the
// ack deadline (docs/protocol.md §4: each answer settles the oldest one; D16:
// one deadline per recipient).

import { sameName } from "../protocol/names.ts";
import { FailReason } from "./reasons.ts";
import type { Transaction } from "./transaction.ts";

export class Inbox {
  readonly #ackTimeoutMs: number;
  readonly #capacity: number;
  readonly #onDeadline: (waitedMs: number) => void;
  #awaiting: Transaction[] = [];
  #since: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `onDeadline` runs once the oldest FORWARD has waited `ackTimeoutMs` for its answer. */
  constructor(ackTimeoutMs: number, capacity: number, onDeadline: (waitedMs: number) => void) {
    this.#ackTimeoutMs = ackTimeoutMs;
    this.#capacity = capacity;
    this.#onDeadline = onDeadline;
  }

  get size(): number {
    return this.#awaiting.length;
  }

  get isFull(): boolean {
    return this.#awaiting.length >= this.#capacity;
  }

  /** A FORWARD for `tx` was written: it is owed an answer. */
  push(tx: Transaction): void {
    this.#awaiting.push(tx);
    this.#since.push(performance.now());
    this.#timer ??= setTimeout(this.#check, this.#ackTimeoutMs);
  }

  /** Settles the oldest FORWARD; `from` is undefined for an ERROR answer. An answer with nothing outstanding is ignored. */
  answer(from: string | undefined): void {
    const tx = this.#awaiting.shift();
    if (tx === undefined) return;
    this.#since.shift();
    if (from === undefined) tx.fail(FailReason.RecipientError);
    else if (sameName(from, tx.from)) tx.ack();
    else tx.fail(FailReason.WrongAnswer);
  }

  /** Fails every FORWARD still owed an answer and stops the clock. */
  failAll(reason: FailReason): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const awaiting = this.#awaiting;
    this.#awaiting = [];
    this.#since = [];
    for (const tx of awaiting) tx.fail(reason);
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (this.#awaiting.length === 0) return;
    const limit = this.#ackTimeoutMs;
    const waited = performance.now() - this.#since[0]!;
    // One timer per recipient, not per message: answers come in order, so only
    // the oldest FORWARD can be the first to miss its deadline.
    if (waited >= limit - 1) this.#onDeadline(waited);
    else this.#timer = setTimeout(this.#check, limit - waited);
  };
}
