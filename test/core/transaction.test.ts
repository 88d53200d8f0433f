// Transaction (STYLE.md §6): one SEND in flight settles exactly once, through
// RECEIVED from every leg or the first failure; whatever comes later is a no-op.

import { describe, expect, test } from "bun:test";
import { FailReason } from "../../src/core/reasons.ts";
import { Transaction, type Outcome } from "../../src/core/transaction.ts";
import { latin1 } from "../../src/protocol/ascii.ts";

// How often each transaction's one listener (the sender's reply queue, in
// production) was called: the outcome is read only through that path.
const calls = new Map<Transaction, number>();

function transaction(from: string, to: string, legs: number): Transaction {
  const tx = new Transaction(from, to, legs);
  calls.set(tx, 0);
  tx.onSettled(() => calls.set(tx, calls.get(tx)! + 1));
  return tx;
}

/** The outcome its listener was told of, or "pending" if it was not called; a second call fails the test. */
function settled(tx: Transaction): Outcome | "pending" {
  const count = calls.get(tx)!;
  expect(count).toBeLessThanOrEqual(1);
  if (count === 0) {
    expect(tx.settled).toBe(false);
    expect(tx.bytes).toBeUndefined();
    return "pending";
  }
  expect(tx.settled).toBe(true);
  return tx.outcome!;
}

describe("Transaction", () => {
  test("keeps who sent it and to whom", () => {
    const tx = transaction("alice", "bob", 1);
    expect([tx.from, tx.to]).toEqual(["alice", "bob"]);
  });

  test("is pending until answered", async () => {
    const tx = transaction("alice", "bob", 1);
    expect(tx.outcome).toBeUndefined();
    expect(settled(tx)).toBe("pending");
  });

  test("settles as sent when its one leg acks", async () => {
    const tx = transaction("alice", "bob", 1);
    tx.ack();
    expect(tx.outcome).toEqual({ kind: "sent" });
    expect(settled(tx)).toEqual({ kind: "sent" });
  });

  test("settles a broadcast as sent only when every leg acked", async () => {
    const tx = transaction("alice", "ALL", 3);
    tx.ack();
    tx.ack();
    expect(tx.outcome).toBeUndefined();
    expect(settled(tx)).toBe("pending");
    tx.ack();
    expect(settled(tx)).toEqual({ kind: "sent" });
  });

  test("settles as failed, with its reason, on the first failure", async () => {
    const tx = transaction("alice", "bob", 1);
    tx.fail(FailReason.Timeout);
    expect(settled(tx)).toEqual({ kind: "failed", reason: FailReason.Timeout });
  });

  test("fails a broadcast when one leg fails, even after the others acked", async () => {
    const tx = transaction("alice", "ALL", 3);
    tx.ack();
    tx.ack();
    tx.fail(FailReason.RecipientError);
    expect(settled(tx)).toEqual({ kind: "failed", reason: FailReason.RecipientError });
  });

  test("ignores a late ack after a failure: no false success", async () => {
    const tx = transaction("alice", "ALL", 2);
    tx.fail(FailReason.Disconnected);
    tx.ack();
    tx.ack();
    expect(tx.outcome).toEqual({ kind: "failed", reason: FailReason.Disconnected });
    expect(settled(tx)).toEqual({ kind: "failed", reason: FailReason.Disconnected });
  });

  test("ignores a failure after success, and extra acks", async () => {
    const tx = transaction("alice", "bob", 1);
    tx.ack();
    tx.fail(FailReason.Shutdown);
    tx.ack();
    expect(tx.outcome).toEqual({ kind: "sent" });
    expect(settled(tx)).toEqual({ kind: "sent" });
  });

  test("keeps the first failure's reason", async () => {
    const tx = transaction("alice", "bob", 1);
    tx.fail(FailReason.WrongAnswer);
    tx.fail(FailReason.Timeout);
    expect(settled(tx)).toEqual({ kind: "failed", reason: FailReason.WrongAnswer });
  });

  test("never rejects: failure is a value", async () => {
    const tx = transaction("alice", "bob", 1);
    tx.fail(FailReason.SlowConsumer);
    expect(settled(tx)).toMatchObject({ kind: "failed" });
  });

  test("calls a listener added after settling at once, and only once", () => {
    const tx = new Transaction("alice", "bob", 1);
    tx.ack();
    let count = 0;
    tx.onSettled(() => count++);
    tx.fail(FailReason.Timeout);
    expect(count).toBe(1);
  });

  test("is the sender's pending reply: SENT <to> once acked, ERROR 102 once failed, nothing before", () => {
    const sent = transaction("alice", "bob", 1);
    const failed = transaction("alice", "ALL", 2);
    expect(sent.bytes).toBeUndefined();
    sent.ack();
    failed.abandon(FailReason.Shutdown);
    expect(latin1(sent.bytes!)).toBe("SENT bob\n\n");
    expect(latin1(failed.bytes!)).toBe("ERROR 102 Unable to send\n\n");
    expect(settled(failed)).toEqual({ kind: "failed", reason: FailReason.Shutdown });
    // Counted against the write cap before it is known: the longer of the two.
    expect(sent.maxBytes).toBe(failed.bytes!.length);
    expect(transaction("alice", "a".repeat(32), 1).maxBytes).toBe("SENT \n\n".length + 32);
  });
});
