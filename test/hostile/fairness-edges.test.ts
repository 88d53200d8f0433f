// Fairness at the edges, found while writing fairness.test.ts: each failed
// until the server was fixed. Each states the rule of docs/protocol.md §6 it
// holds the server to.

import { describe, expect, test } from "bun:test";
import { openArena } from "../support/arena.ts";
import { attackerAddress, slowReader } from "../support/attackers.ts";
import { concat, Peer, registered } from "../support/peer.ts";

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

function sends(to: string, count: number, bodyBytes: number): Uint8Array {
  const one = concat([encoder.encode(`SEND ${to}\nContent-length: ${bodyBytes}\n\n`), new Uint8Array(bodyBytes).fill(0x66)]);
  return concat(Array.from({ length: count }, () => one));
}

describe("fairness at the edges", () => {
  test("SENDs to a name nobody holds are paid for like any other message (D32)", async () => {
    // Every message costs one message (D32), a SEND refused before it reaches a
    // recipient (an unknown name) too: past the burst of 2,000 the answers come
    // at the rate, 1,000 a second. Refused SENDs that cost nothing came back in milliseconds.
    await using arena = await openArena({ honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using spammer = await registered(arena.port, "spammer", "spammer", attackerAddress());
    const started = performance.now();
    spammer.send("SEND nobody\nContent-length: 1\n\nx".repeat(4000));
    await spammer.receives("ERROR 102 Unable to send\n\n".repeat(4000), 5000);
    expect(performance.now() - started).toBeGreaterThan(1500);
    await arena.finish();
  }, 20_000);

  test("a flood to a paused reader meets the flooder's share even when --max-queued-bytes is under one share (D26, D27)", async () => {
    // The arena's own cap, 256 KiB, under the default 1 MiB share: the server tops the reader's wire
    // up to one share of FORWARDs, past the cap, and closes the reader as a slow consumer.
    await using arena = await openArena({ limits: { rateBytes: 2 ** 40, burstBytes: 2 ** 40, ackTimeoutMs: 10_000 }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using victim = await slowReader(arena.port, "victim");
    using flooder = await registered(arena.port, "flooder", "flooder", attackerAddress());
    flooder.send(sends("victim", 200, 64 * 1024));
    await flooder.flushed();
    await arena.group.progress(50);
    victim.pace(Infinity);
    await victim.until(40);
    expect(victim.peer.isClosed).toBe(false);
    using thief = await Peer.connect(arena.port, "thief", attackerAddress());
    thief.send("REGISTER TOSEND victim\n\n");
    await thief.receives("ERROR 104 Username taken\n\n");
    flooder.close();
    await arena.finish();
  }, 20_000);

  test("a reader at 0.5 MiB/s that answers every FORWARD it reads outlives the default 10 s ack deadline (D28)", async () => {
    // Case 2 as first written: 150 × 64 KiB to one reader. Linux's loopback buffers take ~5.5 MB
    // (the send buffer autotunes to 4 MiB), which a 0.5 MiB/s reader needs ~10.5 s to drain:
    // the ack clock, started when a FORWARD left the server, runs out while it sits in the kernel.
    await using arena = await openArena({ limits: { maxQueuedBytes: 32 * MiB, maxShareBytes: 16 * MiB, ackTimeoutMs: 10_000, rateBytes: 2 ** 40, burstBytes: 2 ** 40 }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using victim = await slowReader(arena.port, "victim");
    using sender = await registered(arena.port, "sender", "sender", attackerAddress());
    victim.pace(0.5 * MiB);
    sender.send(sends("victim", 150, 64 * 1024));
    await victim.until(150, 25_000);
    await sender.receives("SENT victim\n\n".repeat(150), 5000);
    await arena.finish();
  }, 40_000);

});
