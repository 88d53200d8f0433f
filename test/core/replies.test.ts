// ReplyQueue (docs/protocol.md D14): replies leave in request order whatever
// order they settle in, and what is held counts toward the write cap.

import { describe, expect, test } from "bun:test";
import { FailReason } from "../../src/core/reasons.ts";
import { DeferredReply, ReplyQueue } from "../../src/core/replies.ts";
import { Transaction } from "../../src/core/transaction.ts";
import { ascii, latin1 } from "../../src/protocol/ascii.ts";

function queue() {
  const written: string[] = [];
  let passes = 0;
  const replies = new ReplyQueue((bytes) => written.push(latin1(bytes)), () => passes++);
  return { replies, written, passes: () => passes };
}

describe("ReplyQueue", () => {
  test("writes bytes at once when nothing is owed before them", () => {
    const { replies, written } = queue();
    replies.add(ascii("REGISTERED TOSEND a\n\n"));
    expect(written).toEqual(["REGISTERED TOSEND a\n\n"]);
    expect(replies.isEmpty).toBe(true);
    expect(replies.bytes).toBe(0);
  });

  test("holds everything behind a pending reply, then writes in request order as the head settles", () => {
    const { replies, written } = queue();
    const first = new Transaction("a", "bob", 1);
    const second = new Transaction("a", "carol", 1);
    replies.add(first);
    replies.add(ascii("ERROR 101 No user registered\n\n"));
    replies.add(second);
    second.ack();
    expect(written).toEqual([]);
    first.fail(FailReason.Timeout);
    expect(written).toEqual(["ERROR 102 Unable to send\n\n", "ERROR 101 No user registered\n\n", "SENT carol\n\n"]);
    expect(replies.isEmpty).toBe(true);
    expect(replies.bytes).toBe(0);
  });

  test("counts held replies at their largest size toward the write cap", () => {
    const { replies } = queue();
    const pending = new Transaction("a", "bob", 1);
    replies.add(pending);
    replies.add(ascii("12345"));
    expect(replies.bytes).toBe(pending.maxBytes + 5);
  });

  test("writes nothing for a deferred reply that settles without bytes, and goes on", () => {
    const { replies, written, passes } = queue();
    const registering = new DeferredReply(30);
    replies.add(registering);
    replies.add(ascii("after\n\n"));
    registering.settle(undefined);
    expect(written).toEqual(["after\n\n"]);
    expect(passes()).toBe(1);
  });

  test("abandons in order: writes each answer with `write`, settling the pending as failed", () => {
    const { replies, written } = queue();
    const acked = new Transaction("a", "bob", 1);
    const open = new Transaction("a", "carol", 1);
    const registering = new DeferredReply(30);
    replies.add(new Transaction("a", "zed", 1));
    replies.add(acked);
    replies.add(open);
    replies.add(registering);
    acked.ack();
    replies.abandon(FailReason.Shutdown, true);
    expect(open.outcome).toEqual({ kind: "failed", reason: FailReason.Shutdown });
    expect(written).toEqual(["ERROR 102 Unable to send\n\n", "SENT bob\n\n", "ERROR 102 Unable to send\n\n"]);
    expect(replies.isEmpty).toBe(true);
  });

  test("abandons without writing when the connection is gone", () => {
    const { replies, written } = queue();
    const open = new Transaction("a", "bob", 1);
    replies.add(open);
    replies.abandon(FailReason.Disconnected, false);
    expect(open.outcome).toEqual({ kind: "failed", reason: FailReason.Disconnected });
    expect(written).toEqual([]);
  });
});
