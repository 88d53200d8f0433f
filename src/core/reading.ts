// Why the server is not reading a connection, each reason a bit: reading
// resumes when none is left. While it withholds reading, the connection's ack
// clocks stand still: a throttled user must not look dead (docs/protocol.md D32).

import type { Wire } from "./hub.ts";
import type { Inbox } from "./inbox.ts";
import type { ReplyQueue } from "./replies.ts";

export const Pause = { Registering: 1, Throttled: 2, Backlogged: 4 } as const;
export type Pause = (typeof Pause)[keyof typeof Pause];

export class ReadGate {
  readonly #wire: Wire;
  readonly #inbox: Inbox;
  readonly #replies: ReplyQueue;
  readonly #maxQueuedBytes: number;
  #reasons = 0;

  constructor(wire: Wire, inbox: Inbox, replies: ReplyQueue, maxQueuedBytes: number) {
    this.#wire = wire;
    this.#inbox = inbox;
    this.#replies = replies;
    this.#maxQueuedBytes = maxQueuedBytes;
  }

  /** No reason to withhold reading. */
  get isOpen(): boolean {
    return this.#reasons === 0;
  }

  has(reason: Pause): boolean {
    return (this.#reasons & reason) !== 0;
  }

  hold(reason: Pause): void {
    if (this.#reasons === 0) {
      this.#wire.pause();
      this.#inbox.suspend();
    }
    this.#reasons |= reason;
  }

  /** Drops `reason` without reading again yet: the caller has work to do first, then calls reopen(). Holding again meanwhile is safe. */
  lift(reason: Pause): void {
    this.#reasons &= ~reason;
  }

  /** Drops `reason`; reads again if none is left. */
  release(reason: Pause): void {
    if (!this.has(reason)) return;
    this.#reasons &= ~reason;
    this.reopen();
  }

  /** Replies waiting to be written: FORWARDs in the wire are others' doing, and have their own deadlines (D28). */
  get backlog(): number {
    return this.#replies.bytes + Math.max(0, this.#wire.queuedBytes - this.#inbox.unflushedBytes);
  }

  /**
   * Backpressure for replies (docs/protocol.md D30): a connection that does
   * not read what it asked for is not read either, once an eighth of its
   * write cap of its own replies is waiting, and again once a sixteenth is.
   */
  followBacklog(): void {
    const waiting = this.backlog;
    if (waiting > this.#maxQueuedBytes / 8) this.hold(Pause.Backlogged);
    else if (waiting <= this.#maxQueuedBytes / 16) this.release(Pause.Backlogged);
  }

  /** Reads again if no reason is left. */
  reopen(): void {
    if (this.#reasons !== 0) return;
    this.#inbox.resume();
    this.#wire.resume();
  }
}
