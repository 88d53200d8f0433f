// Hostile byte streams against a live server while an honest group chats
// (PROTOCOL.md §1): garbage, endless headers, absurd Content-length and
// slowloris. The server answers ERROR 103 or closes, and nobody honest notices.

import { describe, expect, test } from "bun:test";
import { endlessHeader, garbage, hugeLength, slowloris } from "../support/attackers.ts";
import { hostileLimits, openArena } from "../support/arena.ts";

describe("hostile byte streams", () => {
  test("garbage bytes, before and after registering, get ERROR 103 and a close", async () => {
    await using arena = await openArena({});
    await arena.group.progress(20);
    await Promise.all(Array.from({ length: 40 }, (_, i) => garbage(arena.port, arena.rng, { name: i % 2 === 0 ? undefined : `junk${i}` })));
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 15_000);

  test("endless header lines are refused at the header limit", async () => {
    await using arena = await openArena({ limits: { maxHeaderBytes: 4096 } });
    await arena.group.progress(20);
    await Promise.all(Array.from({ length: 20 }, (_, i) => endlessHeader(arena.port, { maxHeaderBytes: 4096, name: i % 2 === 0 ? undefined : `long${i}` })));
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 15_000);

  test("Content-length: 1000000000000 is refused before any body byte is kept", async () => {
    await using arena = await openArena({});
    await arena.group.progress(20);
    await Promise.all(Array.from({ length: 20 }, (_, i) => hugeLength(arena.port, { name: i % 2 === 0 ? undefined : `huge${i}` })));
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 15_000);

  test("slowloris registrations are closed at the register deadline", async () => {
    const registerTimeoutMs = hostileLimits.registerTimeoutMs!;
    await using arena = await openArena({});
    await arena.group.progress(20);
    const started = performance.now();
    const sent = await Promise.all(Array.from({ length: 10 }, () => slowloris(arena.port, { intervalMs: 40, deadlineMs: registerTimeoutMs + 2000 })));
    const took = performance.now() - started;
    // Cut off mid-registration: the 48-byte REGISTER line was never completed.
    for (const bytes of sent) expect(bytes).toBeLessThan(48);
    expect(took).toBeGreaterThanOrEqual(registerTimeoutMs - 50);
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 15_000);
});
