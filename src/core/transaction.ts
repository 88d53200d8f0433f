// One SEND in flight (docs/protocol.md §4): it settles exactly once, when every
// recipient answered RECEIVED or when any leg fails. Failure is a value, never
// a rejection, so nothing can become an unhandled rejection. It is the
// sender's PendingReply: its bytes are `SENT <to>` or `ERROR 102`.

import { ErrorCode, encodeError, encodeErrorWithReason } from "../protocol/errors.ts";
import { encodeSent } from "../protocol/messages.ts";
import { failureReason, type FailReason } from "./reasons.ts";
import type { PendingReply } from "./replies.ts";

export type Outcome = { readonly kind: "sent" } | { readonly kind: "failed"; readonly reason: FailReason };

const SENT: Outcome = { kind: "sent" };
const unableToSend = encodeError(ErrorCode.UnableToSend);

// `SENT <name>` for the names in use: senders talk to few people, and the
// reply is written once per SEND. Cleared when full; a miss only costs encoding.
const maxCachedReplies = 4096;
const sentReplies = new Map<string, Uint8Array>();

function sentReply(to: string): Uint8Array {
  let bytes = sentReplies.get(to);
  if (bytes === undefined) {
    if (sentReplies.size >= maxCachedReplies) sentReplies.clear();
    sentReplies.set(to, (bytes = encodeSent(to)));
  }
  return bytes;
}

export class Transaction implements PendingReply {
  /** The sender's name: the name a RECEIVED for this FORWARD must carry. */
  readonly from: string;
  #to: string;
  #legs: number;
  #outcome: Outcome | undefined;
  #onSettled: (() => void) | undefined;

  /** When its SEND was read (ms), for the receipt latency metric. */
  readonly startedAt: number;

  constructor(from: string, to: string, legs: number, startedAt = 0) {
    this.from = from;
    this.#to = to;
    this.#legs = legs;
    this.startedAt = startedAt;
  }

  /** A username, or ALL for a broadcast. */
  get to(): string {
    return this.#to;
  }

  /**
   * The recipient, found only after the SEND began (the directory asked
   * further), as it registered: SENT names it so (docs/protocol.md §6). Only
   * the case differs, so the reply's length, counted already, stays the same.
   */
  found(name: string): void {
    this.#to = name;
  }

  get outcome(): Outcome | undefined {
    return this.#outcome;
  }

  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  get bytes(): Uint8Array | undefined {
    if (this.#outcome === undefined) return undefined;
    return this.#outcome.kind === "sent" ? sentReply(this.to) : unableToSend;
  }

  /** Its ERROR 102 with a `Reason` field (docs/protocol.md D50); SENT as `bytes`. */
  get reasonBytes(): Uint8Array | undefined {
    const outcome = this.#outcome;
    if (outcome?.kind !== "failed") return this.bytes;
    return encodeErrorWithReason(ErrorCode.UnableToSend, failureReason[outcome.reason]);
  }

  /** The longer of its two possible replies (a Reason field is not counted: it is a few words). */
  get maxBytes(): number {
    return Math.max(unableToSend.length, this.to.length + 7);
  }

  /** Calls `callback` once, when settled (at once if it already is). One listener: the sender's reply queue. */
  onSettled(callback: () => void): void {
    if (this.#outcome !== undefined) callback();
    else this.#onSettled = callback;
  }

  /** One recipient answered RECEIVED with the right name. */
  ack(): void {
    if (--this.#legs === 0) this.#settle(SENT);
  }

  fail(reason: FailReason): void {
    this.#settle({ kind: "failed", reason });
  }

  abandon(reason: FailReason): void {
    this.fail(reason);
  }

  // The one way out: idempotent, so a late answer or a second failure is a no-op.
  #settle(outcome: Outcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    const callback = this.#onSettled;
    this.#onSettled = undefined;
    callback?.();
  }
}
