// Inbox (docs/protocol.md §4, §6): answers settle the oldest FORWARD that
// left; each sender has a share of the queue; FORWARDs wait in the inbox while
// the wire is full; and the ack, delivery and write deadlines each do their one thing.

import { afterEach, describe, expect, test } from "bun:test";
import type { Clock } from "../../src/core/clock.ts";
import { Inbox, type Deadline, type ForwardSink, type InboxLimits } from "../../src/core/inbox.ts";
import { SharedBudget } from "../../src/core/policy.ts";
import { FailReason } from "../../src/core/reasons.ts";
import { Transaction } from "../../src/core/transaction.ts";

/** A wire whose network takes bytes only when the test says so. */
class Sink implements ForwardSink {
  readonly forwards: string[] = [];
  queuedTotal = 0;
  flushedTotal = 0;
  get queuedBytes(): number {
    return this.queuedTotal - this.flushedTotal;
  }
  writeForward(from: string, body: Uint8Array): void {
    this.forwards.push(`${from}:${new TextDecoder().decode(body)}`);
    this.queuedTotal += 10 + body.length;
  }
}

const made: Inbox[] = [];
afterEach(() => {
  for (const inbox of made.splice(0)) inbox.failAll(FailReason.Disconnected);
});

const roomy: InboxLimits = {
  ackTimeoutMs: 60_000,
  deliveryDeadlineMs: 60_000,
  writeDeadlineMs: 60_000,
  maxPendingForwards: 8,
  shareBytes: 1 << 20,
  wireBytes: 1 << 20,
};

function setup(limits: Partial<InboxLimits> = {}, budget = new SharedBudget(1 << 30)) {
  const sink = new Sink();
  const deadline = Promise.withResolvers<Deadline>();
  const inbox = new Inbox({ ...roomy, ...limits }, sink, budget, liveClock, deadline.resolve);
  made.push(inbox);
  /** The network takes everything written so far. */
  const flush = () => {
    sink.flushedTotal = sink.queuedTotal;
    inbox.onFlushed();
  };
  return { inbox, sink, flush, deadline: deadline.promise, budget };
}

/** A clock that reads the time at every look, as if every offer came in a chunk of its own. */
const liveClock = { get now() { return performance.now(); }, tick: () => performance.now() } as unknown as Clock;

const text = (value: string) => new TextEncoder().encode(value);
const tx = (from: string) => new Transaction(from, "bob", 1);

describe("Inbox", () => {
  test("settles FORWARDs that left in the order they were written", () => {
    const { inbox, flush } = setup();
    const one = tx("alice");
    const two = tx("carol");
    inbox.offer(one, text("1"));
    inbox.offer(two, text("2"));
    flush();
    inbox.answer("alice");
    expect(one.outcome).toEqual({ kind: "sent" });
    expect(two.outcome).toBeUndefined();
    inbox.answer("CAROL");
    expect(two.outcome).toEqual({ kind: "sent" });
    expect(inbox.size).toBe(0);
  });

  test("fails the oldest on a wrong name or an ERROR answer, and ignores an answer to nothing that left", () => {
    const { inbox, flush } = setup();
    const wrong = tx("alice");
    const refused = tx("alice");
    inbox.answer("alice");
    inbox.offer(wrong, text("1"));
    inbox.answer("alice"); // written, but not yet left: the recipient cannot have read it
    expect(wrong.outcome).toBeUndefined();
    inbox.offer(refused, text("2"));
    flush();
    inbox.answer("mallory");
    inbox.answer(undefined);
    inbox.answer("alice");
    expect(wrong.outcome).toEqual({ kind: "failed", reason: FailReason.WrongAnswer });
    expect(refused.outcome).toEqual({ kind: "failed", reason: FailReason.RecipientError });
  });

  test("refuses a sender past its count or its bytes, and only that sender", () => {
    const { inbox } = setup({ maxPendingForwards: 2, shareBytes: 100 });
    expect(inbox.offer(tx("mallory"), text("a"))).toBeUndefined();
    expect(inbox.offer(tx("mallory"), text("b"))).toBeUndefined();
    expect(inbox.offer(tx("mallory"), text("c"))).toBe(FailReason.QueueFull);
    expect(inbox.offer(tx("alice"), text("x".repeat(40)))).toBeUndefined();
    expect(inbox.offer(tx("alice"), text("x".repeat(40)))).toBe(FailReason.QueueFull);
    expect(inbox.offer(tx("carol"), text("y"))).toBeUndefined();
  });

  test("gives a sender's bytes back once they left, and its count once answered", () => {
    const { inbox, flush, budget } = setup({ maxPendingForwards: 1 });
    inbox.offer(tx("alice"), text("hello"));
    expect(budget.used).toBeGreaterThan(0);
    flush();
    expect(budget.used).toBe(0);
    expect(inbox.offer(tx("alice"), text("again"))).toBe(FailReason.QueueFull);
    inbox.answer("alice");
    expect(inbox.offer(tx("alice"), text("again"))).toBeUndefined();
  });

  test("refuses anyone once all recipients together hold the shared bound", () => {
    const { inbox } = setup({}, new SharedBudget(100));
    expect(inbox.offer(tx("alice"), text("x".repeat(40)))).toBeUndefined();
    expect(inbox.offer(tx("carol"), text("x".repeat(40)))).toBe(FailReason.ServerBusy);
  });

  test("holds FORWARDs while the wire is full and writes them as it empties, in order", () => {
    const { inbox, sink, flush } = setup({ wireBytes: 11 });
    for (const each of ["1", "2", "3"]) inbox.offer(tx("alice"), text(each));
    expect(sink.forwards).toEqual(["alice:1"]);
    flush();
    expect(sink.forwards).toEqual(["alice:1", "alice:2"]);
    flush();
    expect(sink.forwards).toEqual(["alice:1", "alice:2", "alice:3"]);
  });

  test("fails a SEND whose delivery deadline passed, drops it if unwritten, and keeps the recipient", async () => {
    const { inbox, sink, flush, deadline } = setup({ deliveryDeadlineMs: 30, wireBytes: 11 });
    const written = tx("alice");
    const waiting = tx("carol");
    inbox.offer(written, text("1"));
    inbox.offer(waiting, text("2"));
    const settled = Promise.withResolvers<void>();
    waiting.onSettled(settled.resolve);
    await settled.promise;
    expect(written.outcome).toEqual({ kind: "failed", reason: FailReason.Timeout });
    expect(waiting.outcome).toEqual({ kind: "failed", reason: FailReason.Timeout });
    flush();
    expect(sink.forwards).toEqual(["alice:1"]); // the waiting one was dropped
    // The written one is still owed an answer, which is ignored.
    inbox.answer("alice");
    expect(written.outcome).toEqual({ kind: "failed", reason: FailReason.Timeout });
    expect(await Promise.race([deadline, Promise.resolve("no deadline")])).toBe("no deadline");
  });

  test("starts the ack clock when a FORWARD left, not when it was queued", async () => {
    const { inbox, flush, deadline } = setup({ ackTimeoutMs: 20 });
    inbox.offer(tx("alice"), text("1"));
    const queuedAt = performance.now();
    // The write deadline is far off and nothing left: nothing fires until the network takes it.
    const late = Promise.withResolvers<void>();
    setTimeout(late.resolve, 60).unref();
    expect(await Promise.race([deadline, late.promise.then(() => "quiet")])).toBe("quiet");
    flush();
    const fired = await deadline;
    expect(fired.kind).toBe("ack");
    expect(performance.now() - queuedAt).toBeGreaterThanOrEqual(75);
  });

  test("stops the ack clock while suspended", async () => {
    const { inbox, flush, deadline } = setup({ ackTimeoutMs: 20 });
    inbox.offer(tx("alice"), text("1"));
    flush();
    inbox.suspend();
    const late = Promise.withResolvers<void>();
    setTimeout(late.resolve, 60).unref();
    expect(await Promise.race([deadline, late.promise.then(() => "quiet")])).toBe("quiet");
    inbox.resume();
    expect((await deadline).kind).toBe("ack");
  });

  test("gives up on a recipient whose oldest FORWARD was not fully written by the write deadline", async () => {
    const { inbox, deadline } = setup({ writeDeadlineMs: 20 });
    inbox.offer(tx("alice"), text("1"));
    expect((await deadline).kind).toBe("write");
  });

  test("fails everything owed or queued, once, on failAll", () => {
    const { inbox, flush, budget } = setup({ wireBytes: 11 });
    const txs = [tx("a"), tx("c"), tx("d")];
    for (const each of txs) inbox.offer(each, text("x"));
    flush();
    inbox.failAll(FailReason.SlowConsumer);
    for (const each of txs) expect(each.outcome).toEqual({ kind: "failed", reason: FailReason.SlowConsumer });
    expect(budget.used).toBe(0);
    inbox.answer("a");
    expect(inbox.size).toBe(0);
  });
});
