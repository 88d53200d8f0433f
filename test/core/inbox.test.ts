// Inbox (docs/protocol.md §4, D16): answers settle the oldest FORWARD, and the
// ack deadline fires for the oldest one only.

import { afterEach, describe, expect, test } from "bun:test";
import { Inbox } from "../../src/core/inbox.ts";
import { FailReason } from "../../src/core/reasons.ts";
import { Transaction } from "../../src/core/transaction.ts";

const inboxes: Inbox[] = [];
afterEach(() => {
  for (const inbox of inboxes.splice(0)) inbox.failAll(FailReason.Disconnected);
});

function inbox(ackTimeoutMs = 60_000, capacity = 4) {
  const deadline = Promise.withResolvers<number>();
  const made = new Inbox(ackTimeoutMs, capacity, deadline.resolve);
  inboxes.push(made);
  return { inbox: made, deadline: deadline.promise };
}

describe("Inbox", () => {
  test("settles FORWARDs in the order they were written", () => {
    const { inbox: box } = inbox();
    const one = new Transaction("alice", "bob", 1);
    const two = new Transaction("carol", "bob", 1);
    box.push(one);
    box.push(two);
    box.answer("alice");
    expect(one.outcome).toEqual({ kind: "sent" });
    expect(two.outcome).toBeUndefined();
    box.answer("carol");
    expect(two.outcome).toEqual({ kind: "sent" });
    expect(box.size).toBe(0);
  });

  test("fails the oldest FORWARD on a wrong name or an ERROR answer, and ignores an answer with nothing owed", () => {
    const { inbox: box } = inbox();
    const wrong = new Transaction("alice", "bob", 1);
    const refused = new Transaction("alice", "bob", 1);
    box.push(wrong);
    box.push(refused);
    box.answer("mallory");
    box.answer(undefined);
    box.answer("alice");
    expect(wrong.outcome).toEqual({ kind: "failed", reason: FailReason.WrongAnswer });
    expect(refused.outcome).toEqual({ kind: "failed", reason: FailReason.RecipientError });
  });

  test("is full at its capacity", () => {
    const { inbox: box } = inbox(60_000, 2);
    box.push(new Transaction("a", "b", 1));
    expect(box.isFull).toBe(false);
    box.push(new Transaction("a", "b", 1));
    expect(box.isFull).toBe(true);
  });

  test("calls the deadline once the oldest FORWARD waited the ack timeout", async () => {
    const { inbox: box, deadline } = inbox(20);
    box.push(new Transaction("alice", "bob", 1));
    expect(await deadline).toBeGreaterThanOrEqual(19);
  });

  test("fails everything owed, once, on failAll", () => {
    const { inbox: box } = inbox();
    const txs = [new Transaction("a", "b", 1), new Transaction("c", "b", 1)];
    for (const tx of txs) box.push(tx);
    box.failAll(FailReason.SlowConsumer);
    for (const tx of txs) expect(tx.outcome).toEqual({ kind: "failed", reason: FailReason.SlowConsumer });
    box.answer("a");
    expect(txs[0]!.outcome).toEqual({ kind: "failed", reason: FailReason.SlowConsumer });
  });
});
