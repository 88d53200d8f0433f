// The username rule of docs/protocol.md §3 and §6: 1 to 32 ASCII letters and
// digits, the same name in any case, with ALL in any case reserved for broadcast.

import { describe, expect, test } from "bun:test";
import { BROADCAST, isBroadcast, isValidUsername, maxNameLength, nameKey, sameName } from "../../src/protocol/names.ts";

describe("names", () => {
  test("reserves exactly ALL for broadcast, and allows 32 characters", () => {
    expect(BROADCAST).toBe("ALL");
    expect(maxNameLength).toBe(32);
  });

  const valid: [string, string][] = [
    ["a single letter", "a"],
    ["a single digit", "7"],
    ["digits only", "0123456789"],
    ["mixed case letters and digits", "Alice42"],
    ["every letter and digit class", "azAZ09"],
    ["32 characters", "a".repeat(32)],
    ["a name that contains ALL", "ALLx"],
    ["a name that ends in ALL", "xALL"],
  ];
  for (const [what, name] of valid) {
    test(`accepts ${what}: ${JSON.stringify(name)}`, () => {
      expect(isValidUsername(name)).toBe(true);
    });
  }

  const invalid: [string, string][] = [
    ["the empty name", ""],
    ["the reserved ALL", "ALL"],
    ["all in lower case (docs/protocol.md §6: reserved in any case)", "all"],
    ["All with one capital", "All"],
    ["aLL", "aLL"],
    ["33 characters", "a".repeat(33)],
    ["a space inside", "al ice"],
    ["a leading space", " alice"],
    ["a trailing space", "alice "],
    ["a trailing newline", "alice\n"],
    ["a tab", "al\tice"],
    ["a carriage return", "alice\r"],
    ["a NUL", "alice\0"],
    ["an underscore", "al_ice"],
    ["a hyphen", "al-ice"],
    ["a dot", "al.ice"],
    ["a colon", "alice:"],
    ["a Latin-1 letter", "aliçe"],
    ["a Greek letter", "αlice"],
    ["a fullwidth letter", "ａlice"],
    ["a non-ASCII digit", "user٣"],
    ["an emoji", "alice👋"],
    ["a letter with a combining mark", "alice\u0301"],
    ["a zero-width space", "ali\u200bce"],
  ];
  for (const [what, name] of invalid) {
    test(`refuses ${what}: ${JSON.stringify(name)}`, () => {
      expect(isValidUsername(name)).toBe(false);
    });
  }

  test("tells the broadcast name in any case, and nothing else", () => {
    for (const name of ["ALL", "all", "All", "aLl"]) expect(isBroadcast(name), name).toBe(true);
    for (const name of ["AL", "ALLx", "xall", "al l", ""]) expect(isBroadcast(name), name).toBe(false);
  });

  test("makes names that differ only in case the same name", () => {
    expect(nameKey("Alice")).toBe(nameKey("aLICE"));
    expect(sameName("Alice", "alice")).toBe(true);
    expect(sameName("Alice", "Alice")).toBe(true);
    expect(sameName("alice", "alicia")).toBe(false);
    expect(sameName("alice", "alice1")).toBe(false);
  });
});
