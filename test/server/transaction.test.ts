// Transaction (STYLE.md §6): one SEND in flight settles exactly once, through
// RECEIVED from every leg or the first failure; whatever comes later is a no-op.

import { describe, expect, test } from "bun:test";
import { FailReason, Transaction, type Outcome } from "../../src/server/transaction.ts";

/** The outcome `done` resolved with, or "pending" if it has not resolved after the current turn. */
async function settled(tx: Transaction): Promise<Outcome | "pending"> {
  return Promise.race([tx.done, new Promise<"pending">((resolve) => setImmediate(() => resolve("pending")))]);
}

describe("Transaction", () => {
  test("keeps who sent it and to whom", () => {
    const tx = new Transaction("alice", "bob", 1);
    expect([tx.from, tx.to]).toEqual(["alice", "bob"]);
  });

  test("is pending until answered", async () => {
    const tx = new Transaction("alice", "bob", 1);
    expect(tx.outcome).toBeUndefined();
    expect(await settled(tx)).toBe("pending");
  });

  test("settles as sent when its one leg acks", async () => {
    const tx = new Transaction("alice", "bob", 1);
    tx.ack();
    expect(tx.outcome).toEqual({ kind: "sent" });
    expect(await tx.done).toEqual({ kind: "sent" });
  });

  test("settles a broadcast as sent only when every leg acked", async () => {
    const tx = new Transaction("alice", "ALL", 3);
    tx.ack();
    tx.ack();
    expect(tx.outcome).toBeUndefined();
    expect(await settled(tx)).toBe("pending");
    tx.ack();
    expect(await settled(tx)).toEqual({ kind: "sent" });
  });

  test("settles as failed, with its reason, on the first failure", async () => {
    const tx = new Transaction("alice", "bob", 1);
    tx.fail(FailReason.Timeout);
    expect(await tx.done).toEqual({ kind: "failed", reason: FailReason.Timeout });
  });

  test("fails a broadcast when one leg fails, even after the others acked", async () => {
    const tx = new Transaction("alice", "ALL", 3);
    tx.ack();
    tx.ack();
    tx.fail(FailReason.RecipientError);
    expect(await tx.done).toEqual({ kind: "failed", reason: FailReason.RecipientError });
  });

  test("ignores a late ack after a failure: no false success", async () => {
    const tx = new Transaction("alice", "ALL", 2);
    tx.fail(FailReason.Disconnected);
    tx.ack();
    tx.ack();
    expect(tx.outcome).toEqual({ kind: "failed", reason: FailReason.Disconnected });
    expect(await tx.done).toEqual({ kind: "failed", reason: FailReason.Disconnected });
  });

  test("ignores a failure after success, and extra acks", async () => {
    const tx = new Transaction("alice", "bob", 1);
    tx.ack();
    tx.fail(FailReason.Shutdown);
    tx.ack();
    expect(tx.outcome).toEqual({ kind: "sent" });
    expect(await tx.done).toEqual({ kind: "sent" });
  });

  test("keeps the first failure's reason", async () => {
    const tx = new Transaction("alice", "bob", 1);
    tx.fail(FailReason.WrongAnswer);
    tx.fail(FailReason.Timeout);
    expect(await tx.done).toEqual({ kind: "failed", reason: FailReason.WrongAnswer });
  });

  test("never rejects: failure is a value", async () => {
    const tx = new Transaction("alice", "bob", 1);
    tx.fail(FailReason.SlowConsumer);
    await expect(tx.done).resolves.toMatchObject({ kind: "failed" });
  });
});
