// A recipient's FORWARDs, from queued to answered (docs/protocol.md §4, §6).
// Each sender has a share of the queue; a FORWARD is handed to the wire only
// while the wire holds little, so the rest can still be dropped; and each
// FORWARD has two clocks: a delivery deadline from when it was queued (fails
// the SEND, the recipient untouched) and an ack deadline from when its last
// byte left (closes a dead recipient), plus a write deadline for the oldest
// FORWARD not fully written (closes a slow consumer).

import { sameName } from "../protocol/names.ts";
import type { Clock } from "./clock.ts";
import type { SharedBudget } from "./policy.ts";
import { FailReason } from "./reasons.ts";
import type { Transaction } from "./transaction.ts";

/** The part of the Wire the inbox writes to. */
export type ForwardSink = {
  writeForward(from: string, body: Uint8Array): void;
  readonly queuedBytes: number;
  readonly queuedTotal: number;
  readonly flushedTotal: number;
};

export type InboxLimits = {
  readonly ackTimeoutMs: number;
  readonly deliveryDeadlineMs: number;
  readonly writeDeadlineMs: number;
  readonly maxPendingForwards: number;
  readonly shareBytes: number;
  /** The wire is topped up with FORWARDs while it holds less than this. */
  readonly wireBytes: number;
};

/** Why the inbox gives up on its recipient. */
export type Deadline = { readonly kind: "ack" | "write"; readonly waitedMs: number };

type Share = { bytes: number; count: number };

type Entry = {
  readonly tx: Transaction;
  readonly share: Share;
  readonly size: number;
  readonly queuedAt: number;
  body: Uint8Array | undefined;
  /** The wire's queuedTotal after it was written; -1 until then. */
  end: number;
  /** When its last byte left; 0 until then. */
  flushedAt: number;
  /** The inbox's suspended time when it left, so suspension stops its ack clock. */
  suspendedAt: number;
};

// `FORWARD ` + `\nContent-length: ` + up to 15 digits + `\n\n`.
const forwardOverhead = 8 + 17 + 15 + 2;

export class Inbox {
  readonly #limits: InboxLimits;
  readonly #sink: ForwardSink;
  readonly #budget: SharedBudget;
  readonly #onDeadline: (deadline: Deadline) => void;
  readonly #clock: Clock;
  readonly #shares = new Map<string, Share>();
  /** Written, oldest first; the first `#flushed` of them have left. */
  #owed: Entry[] = [];
  #flushed = 0;
  /** Queued, not yet written, oldest first. */
  #waiting: Entry[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = 0;
  #wireBytes = 0;
  #suspendedMs = 0;
  // A recipient that keeps answering is alive, however much the kernel holds before it.
  #answeredAt = 0;
  #suspendedAtAnswer = 0;
  #suspendedSince: number | undefined;
  #closed = false;

  constructor(limits: InboxLimits, sink: ForwardSink, budget: SharedBudget, clock: Clock, onDeadline: (deadline: Deadline) => void) {
    this.#limits = limits;
    this.#clock = clock;
    this.#sink = sink;
    this.#budget = budget;
    this.#onDeadline = onDeadline;
  }

  /** FORWARDs owed an answer or still queued. */
  get size(): number {
    return this.#owed.length + this.#waiting.length;
  }

  /** FORWARD bytes handed to the wire that have not left it yet. */
  get unflushedBytes(): number {
    return this.#wireBytes;
  }

  /**
   * Queues a FORWARD for `tx`, or says why not: over its sender's share (by
   * count or bytes), or over what all recipients together may hold.
   */
  offer(tx: Transaction, body: Uint8Array): FailReason | undefined {
    if (this.#closed) return FailReason.Disconnected;
    // tx.from is the sender's registered spelling, the same for every SEND of one user.
    let share = this.#shares.get(tx.from);
    const size = forwardOverhead + tx.from.length + body.length;
    if (share !== undefined && (share.count >= this.#limits.maxPendingForwards || share.bytes + size > this.#limits.shareBytes)) {
      return FailReason.QueueFull;
    }
    if (!this.#budget.take(size)) return FailReason.ServerBusy;
    if (share === undefined) this.#shares.set(tx.from, (share = { bytes: 0, count: 0 }));
    share.bytes += size;
    share.count++;
    const now = this.#clock.now;
    const entry: Entry = { tx, share, size, queuedAt: now, body, end: -1, flushedAt: 0, suspendedAt: 0 };
    if (this.#waiting.length === 0 && this.#sink.queuedBytes < this.#limits.wireBytes) this.#write(entry);
    else this.#wait(entry);
    // The earliest its delivery or write deadline can run out; the check then sets the next one exactly.
    this.#armBy(now + Math.min(this.#limits.deliveryDeadlineMs, this.#limits.writeDeadlineMs));
    return undefined;
  }

  /** The wire handed bytes on: start the ack clocks of FORWARDs that have left, and top the wire up. */
  onFlushed(): void {
    const flushedTotal = this.#sink.flushedTotal;
    const owed = this.#owed;
    let now = 0;
    while (this.#flushed < owed.length && owed[this.#flushed]!.end <= flushedTotal) {
      const entry = owed[this.#flushed++]!;
      entry.flushedAt = now ||= performance.now();
      this.#wireBytes -= entry.size;
      entry.suspendedAt = this.#suspendedNow(now);
      this.#unhold(entry);
    }
    if (now !== 0) this.#armBy(now + this.#limits.ackTimeoutMs);
    while (this.#waiting.length > 0 && this.#sink.queuedBytes < this.#limits.wireBytes && !this.#closed) {
      this.#write(this.#waiting.shift()!);
    }
  }

  /** Settles the oldest FORWARD that has left; `from` is undefined for an ERROR answer. Anything else is ignored. */
  answer(from: string | undefined): void {
    if (this.#flushed === 0) return; // nothing the recipient can have read: ignored (docs/protocol.md §4)
    const entry = this.#owed.shift()!;
    this.#flushed--;
    this.#answeredAt = this.#clock.now;
    this.#suspendedAtAnswer = this.#suspendedNow(this.#answeredAt);
    this.#release(entry);
    const tx = entry.tx;
    if (from === undefined) tx.fail(FailReason.RecipientError);
    else if (sameName(from, tx.from)) tx.ack();
    else tx.fail(FailReason.WrongAnswer);
  }

  /** The server stopped reading this connection: its ack clocks stop too (docs/protocol.md §6 "Rates"). */
  suspend(): void {
    this.#suspendedSince ??= performance.now();
  }

  resume(): void {
    if (this.#suspendedSince === undefined) return;
    const now = performance.now();
    this.#suspendedMs += now - this.#suspendedSince;
    this.#suspendedSince = undefined;
    if (this.#flushed > 0) this.#armBy(now + 1);
  }

  /** Fails every FORWARD still owed or queued and stops the clocks. */
  failAll(reason: FailReason): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const entries = [...this.#owed.slice(this.#flushed), ...this.#waiting];
    const answered = this.#owed.slice(0, this.#flushed);
    this.#owed = [];
    this.#waiting = [];
    this.#flushed = 0;
    this.#wireBytes = 0;
    for (const entry of entries) this.#unhold(entry);
    for (const entry of [...answered, ...entries]) {
      this.#release(entry);
      entry.tx.fail(reason);
    }
  }

  #write(entry: Entry): void {
    this.#sink.writeForward(entry.tx.from, entry.body!);
    entry.body = undefined;
    entry.end = this.#sink.queuedTotal;
    this.#wireBytes += entry.size;
    this.#owed.push(entry);
  }

  #wait(entry: Entry): void {
    // A large body is a view of the sender's socket chunk: waiting, it would
    // pin up to 512 KiB while counted at its own size.
    const body = entry.body!;
    if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength) entry.body = new Uint8Array(body);
    this.#waiting.push(entry);
  }

  /** Its bytes are no longer held here: they left, or it was dropped. */
  #unhold(entry: Entry): void {
    entry.share.bytes -= entry.size;
    this.#budget.give(entry.size);
  }

  /** It needs no answer any more. */
  #release(entry: Entry): void {
    if (--entry.share.count === 0) this.#shares.delete(entry.tx.from);
  }

  #suspendedNow(now: number): number {
    return this.#suspendedMs + (this.#suspendedSince === undefined ? 0 : now - this.#suspendedSince);
  }

  /** Makes sure the check runs by `at`. */
  #armBy(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#check, Math.max(1, at - performance.now()));
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    const { ackTimeoutMs, writeDeadlineMs, deliveryDeadlineMs } = this.#limits;
    let next = Infinity;

    // Ack: answers come in order, so only the oldest FORWARD that left can be the first to miss it.
    // While suspended the clock stands still; resume() sets it going again. It
    // runs from when the oldest FORWARD left or from the last answer, whichever
    // is later: a slow reader answering what it has read is not dead, though
    // the kernel's buffers (megabytes on loopback) hold more for it.
    const oldest = this.#flushed > 0 && this.#suspendedSince === undefined ? this.#owed[0]! : undefined;
    if (oldest !== undefined) {
      const since = Math.max(oldest.flushedAt, this.#answeredAt);
      const waited = now - since - (this.#suspendedMs - (since === oldest.flushedAt ? oldest.suspendedAt : this.#suspendedAtAnswer));
      if (waited >= ackTimeoutMs - 1) return this.#onDeadline({ kind: "ack", waitedMs: waited });
      next = Math.min(next, now + ackTimeoutMs - waited);
    }

    // Write: the oldest FORWARD not fully written.
    const unwritten = this.#owed[this.#flushed] ?? this.#waiting[0];
    if (unwritten !== undefined) {
      const waited = now - unwritten.queuedAt;
      if (waited >= writeDeadlineMs - 1) return this.#onDeadline({ kind: "write", waitedMs: waited });
      next = Math.min(next, unwritten.queuedAt + writeDeadlineMs);
    }

    // Delivery: FORWARDs are queued in order, so the expired ones come first.
    const expired = now - deliveryDeadlineMs + 1;
    for (const entry of this.#owed) {
      if (entry.queuedAt > expired) {
        next = Math.min(next, entry.queuedAt + deliveryDeadlineMs);
        break;
      }
      entry.tx.fail(FailReason.Timeout); // still owed an answer, which will be ignored
    }
    while (this.#waiting.length > 0 && this.#waiting[0]!.queuedAt <= expired) {
      const entry = this.#waiting.shift()!;
      this.#unhold(entry);
      this.#release(entry);
      entry.tx.fail(FailReason.Timeout);
    }
    if (this.#waiting.length > 0) next = Math.min(next, this.#waiting[0]!.queuedAt + deliveryDeadlineMs);

    if (next !== Infinity) this.#armBy(next);
  };
}
