// The log (docs/protocol.md D34): events as lines, levels, and the lines one
// connection may cause, with the rest counted and the count written later.

import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/core/log.ts";

function logger(options: { linesPerSecond?: number; reportAfterMs?: number; level?: "info" | "debug" } = {}) {
  const lines: string[] = [];
  const counted = Promise.withResolvers<string>();
  const write = (line: string) => {
    lines.push(line);
    if (line.includes("log.suppressed")) counted.resolve(line);
  };
  return { lines, counted: counted.promise, log: createLogger({ level: options.level ?? "info", format: "text", write, ...options }) };
}

describe("log", () => {
  test("writes one text line per event at or above its level, fields as key=value", () => {
    const { lines, log } = logger();
    log.emit({ type: "user.registered", user: "alice", address: "127.0.0.1" });
    log.emit({ type: "connection.open", id: 1, address: "127.0.0.1" }); // debug: below info
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ info +user\.registered user=alice address=127\.0\.0\.1\n$/);
    expect(log.wants("connection.open")).toBe(false);
  });

  test("writes JSON lines with time, level and event", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", write: (line) => void lines.push(line) });
    log.emit({ type: "auth.refused", id: 3, user: "bob", reason: "plaintext" });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", event: "auth.refused", id: 3, user: "bob", reason: "plaintext" });
  });

  test("lets one connection cause ten seconds' worth of lines, counts the rest and writes the count", async () => {
    const { lines, counted, log } = logger({ linesPerSecond: 1, reportAfterMs: 20 });
    for (let i = 0; i < 25; i++) log.emit({ type: "auth.refused", id: 7, user: "mallory", reason: "refused" });
    log.emit({ type: "auth.refused", id: 8, user: "alice", reason: "refused" }); // another connection: its own budget
    expect(lines.filter((line) => line.includes("mallory"))).toHaveLength(10);
    expect(lines.filter((line) => line.includes("alice"))).toHaveLength(1);
    expect(await counted).toMatch(/log\.suppressed lines=15\n$/);
  });
});
