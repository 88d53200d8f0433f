// The budgets of docs/protocol.md §6: token buckets, counts per address, the shared bound.

import { describe, expect, test } from "bun:test";
import { parseRange, type AddressRange } from "../../src/core/address.ts";
import { AddressBook, SharedBudget, TokenBucket } from "../../src/core/policy.ts";

describe("TokenBucket", () => {
  test("lets a burst through at once, then asks to wait off the debt at its rate", () => {
    const bucket = new TokenBucket(100, 10, 0);
    expect(bucket.spend(10, 0)).toBe(0);
    expect(bucket.spend(5, 0)).toBe(50); // 5 tokens short at 100/s
    expect(bucket.spend(0, 50)).toBe(0); // paid off
    expect(bucket.spend(0, 10_000)).toBe(0);
    expect(bucket.spend(10, 10_000)).toBe(0); // refilled only up to the burst
    expect(bucket.spend(1, 10_000)).toBe(10);
  });
});

describe("AddressBook", () => {
  test("caps connections per address and in all, and counts the leaving", () => {
    const book = new AddressBook(3, 2, 1, []);
    expect(book.admit("10.0.0.1")).toBe("ok");
    expect(book.admit("::ffff:10.0.0.1")).toBe("ok");
    expect(book.admit("10.0.0.1")).toBe("address-full");
    expect(book.admit("10.0.0.2")).toBe("ok");
    expect(book.admit("10.0.0.3")).toBe("server-full");
    book.leave("10.0.0.1");
    expect(book.admit("10.0.0.1")).toBe("ok");
    expect(book.open).toBe(3);
  });

  test("caps names per address, and exempts the ranges it is given from the per-address caps only", () => {
    const exempt = [parseRange("10.9.0.0/16")!] as AddressRange[];
    const book = new AddressBook(2, 1, 1, exempt);
    expect(book.claimName("10.0.0.1")).toBe(true);
    expect(book.claimName("10.0.0.1")).toBe(false);
    book.releaseName("10.0.0.1");
    expect(book.claimName("10.0.0.1")).toBe(true);
    expect([book.claimName("10.9.1.1"), book.claimName("10.9.1.1")]).toEqual([true, true]);
    expect([book.admit("10.9.1.1"), book.admit("10.9.1.1"), book.admit("10.9.1.1")]).toEqual(["ok", "ok", "server-full"]);
  });
});

describe("SharedBudget", () => {
  test("takes what fits and gives back", () => {
    const budget = new SharedBudget(10);
    expect(budget.take(6)).toBe(true);
    expect(budget.take(5)).toBe(false);
    budget.give(6);
    expect(budget.take(10)).toBe(true);
    expect(budget.used).toBe(10);
  });
});
