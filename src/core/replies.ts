// The replies a connection owes, in the order of the requests they answer
// (docs/protocol.md D14). Each is bytes ready now or a PendingReply settled
// later: a Transaction, or a registration waiting for the directory.

import type { FailReason } from "./reasons.ts";

/** A reply that is not known yet. */
export interface PendingReply {
  /** The reply's bytes once settled; undefined while pending, or when settling produced none. */
  readonly bytes: Uint8Array | undefined;
  /** The same with a `Reason` field where it has one (docs/protocol.md D50), for a client that asked for reasons. */
  readonly reasonBytes?: Uint8Array | undefined;
  readonly settled: boolean;
  /** The most it can take on the wire, counted against the connection's write cap. */
  readonly maxBytes: number;
  /** Calls `callback` once, when settled (at once if it already is). One listener: the queue. */
  onSettled(callback: () => void): void;
  /** The connection is closing: settle now, as a failure where that means anything. */
  abandon(reason: FailReason): void;
}

/** A pending reply settled by whoever holds it, with the bytes it then knows. */
export class DeferredReply implements PendingReply {
  readonly maxBytes: number;
  #bytes: Uint8Array | undefined;
  #settled = false;
  #callback: (() => void) | undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get bytes(): Uint8Array | undefined {
    return this.#bytes;
  }

  get settled(): boolean {
    return this.#settled;
  }

  onSettled(callback: () => void): void {
    if (this.#settled) callback();
    else this.#callback = callback;
  }

  settle(bytes: Uint8Array | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#bytes = bytes;
    const callback = this.#callback;
    this.#callback = undefined;
    callback?.();
  }

  abandon(): void {
    this.settle(undefined);
  }
}

type Reply = Uint8Array | PendingReply;

export class ReplyQueue {
  readonly #write: (bytes: Uint8Array) => void;
  readonly #onWritten: () => void;
  readonly #onAnswered: (reply: PendingReply) => void;
  #replies: Reply[] = [];
  /** docs/protocol.md D50: the connection asked for reasons on its ERROR 102s. */
  reasons = false;
  // What the held replies will take on the wire: they are bytes waiting to be
  // written to this connection, so they count toward its write cap, or a
  // pipeline behind one unanswered SEND would grow without bound.
  #bytes = 0;

  /** `onWritten` runs after every pass that wrote what was ready; `onAnswered` for each pending reply written. */
  constructor(write: (bytes: Uint8Array) => void, onWritten: () => void, onAnswered: (reply: PendingReply) => void = () => {}) {
    this.#write = write;
    this.#onWritten = onWritten;
    this.#onAnswered = onAnswered;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get isEmpty(): boolean {
    return this.#replies.length === 0;
  }

  /** Bytes go out at once when nothing is owed before them; a pending reply waits its turn. */
  add(reply: Reply): void {
    if (reply instanceof Uint8Array && this.#replies.length === 0) return this.#write(reply);
    this.#replies.push(reply);
    this.#bytes += sizeOf(reply);
    if (!(reply instanceof Uint8Array)) reply.onSettled(this.#writeReady);
  }

  /** Writes every reply at the head that is ready; stops at the first still pending. */
  readonly #writeReady = (): void => {
    const replies = this.#replies;
    let ready = 0;
    for (; ready < replies.length; ready++) {
      const reply = replies[ready]!;
      if (!(reply instanceof Uint8Array) && !reply.settled) break;
      const bytes = reply instanceof Uint8Array ? reply : this.#answer(reply);
      this.#bytes -= sizeOf(reply);
      if (bytes !== undefined) this.#write(bytes);
      if (!(reply instanceof Uint8Array)) this.#onAnswered(reply);
    }
    // Usually every reply was ready: empty the array in place instead of splice(), which allocates.
    if (ready === replies.length) replies.length = 0;
    else if (ready > 0) replies.splice(0, ready);
    this.#onWritten();
  };

  #answer(reply: PendingReply): Uint8Array | undefined {
    return (this.reasons ? reply.reasonBytes : undefined) ?? reply.bytes;
  }

  /** Settles everything owed as failed; with `write`, writes each answer in order (docs/protocol.md D18). */
  abandon(reason: FailReason, write: boolean): void {
    const replies = this.#replies;
    this.#replies = [];
    this.#bytes = 0;
    for (const reply of replies) {
      if (!(reply instanceof Uint8Array)) reply.abandon(reason);
      const bytes = reply instanceof Uint8Array ? reply : this.#answer(reply);
      if (write && bytes !== undefined) this.#write(bytes);
      if (!(reply instanceof Uint8Array)) this.#onAnswered(reply);
    }
  }
}

function sizeOf(reply: Reply): number {
  return reply instanceof Uint8Array ? reply.length : reply.maxBytes;
}
