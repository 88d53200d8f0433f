// Lies and floods from clients that hold a name (PROTOCOL.md §3-4) while an
// honest group chats: receivers that answer what they never got, floods of
// RECEIVED and of REGISTER, and attempts on names in use. No false SENT, ever.

import { describe, expect, test } from "bun:test";
import { liar, pour, receivedFlood, registerFlood } from "../support/attackers.ts";
import { hostileLimits, openArena } from "../support/arena.ts";

const encoder = new TextEncoder();

describe("hostile answers and registrations", () => {
  test("a receiver answering RECEIVED for messages it never got earns its sender no SENT", async () => {
    // No honest broadcasts: the liar's answers must meet only the FORWARDs of this transcript.
    await using arena = await openArena({ honest: { broadcast: 0 } });
    await arena.group.progress(20);
    await liar(arena.port, { name: "liar", sender: "zed", ackTimeoutMs: hostileLimits.ackTimeoutMs! });
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 20_000);

  test("floods of RECEIVED are ignored, from a registered user or from nobody", async () => {
    await using arena = await openArena({ honest: { broadcast: 0 } });
    await arena.group.progress(20);
    const names = arena.group.members.map((m) => m.name);
    // Within one connection's burst (docs/protocol.md D32): what is under test is that they are ignored.
    const nobody = await pour(arena.port, { prefix: new Uint8Array(0), unit: encoder.encode("RECEIVED alice\n\n"), total: 24 * 1024 });
    await Promise.all([receivedFlood(arena.port, { name: "flooder", names, count: 1500, rng: arena.rng }), nobody.written]);
    nobody.end();
    await arena.group.progress(100);
    await arena.finish();
  }, 20_000);

  test("registration floods get ERROR 104 and never take a name from its holder", async () => {
    await using arena = await openArena({});
    await arena.group.progress(20);
    const taken = arena.group.members.map((m) => m.name);
    // Within one connection's burst (docs/protocol.md D32): what is under test is the answers.
    await Promise.all(Array.from({ length: 4 }, (_, i) => registerFlood(arena.port, { name: `squatter${i}`, count: 1500, taken })));
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    expect(arena.server.users).toBe(taken.length);
    await arena.finish();
  }, 20_000);
});
