// Attacks on the server's memory and connection table while an honest group
// chats (PROTOCOL.md §1 limits): crowds that never register, halves that never
// pair, a receiver that never reads, and pipelines built to make the server
// hold far more than its per-connection caps.

import { describe, expect, test } from "bun:test";
import { halfRegistered, hog, neverReads, pour, silentCrowd } from "../support/attackers.ts";
import { hostileLimits, openArena } from "../support/arena.ts";
import { Peer, registered } from "../support/peer.ts";

const encoder = new TextEncoder();
const registerTimeoutMs = hostileLimits.registerTimeoutMs!;
/** Rates no test here reaches: these tests are about what the server holds (docs/protocol.md D32 has its own tests). */
const unthrottled = { rateMessages: 10_000_000, burstMessages: 100_000_000, rateBytes: 2 ** 40, burstBytes: 2 ** 40 };

/** Connections the crowd may open: this process holds both ends, so two descriptors each. */
function crowdSize(wanted: number): number {
  const limits = require("node:fs").readFileSync("/proc/self/limits", "utf8") as string;
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024);
  return Math.min(wanted, Math.floor((soft - 256) / 2));
}

describe("hostile resource use", () => {
  test("a thousand connections that never register are all closed at the register deadline", async () => {
    await using arena = await openArena({});
    await arena.group.progress(20);
    const count = crowdSize(1000);
    expect(count).toBeGreaterThanOrEqual(300);
    // Spread over addresses under the per-address cap: the register deadline, not the cap, is under test.
    await silentCrowd(arena.port, { count, perAddress: 50, deadlineMs: registerTimeoutMs + 3000 });
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 20_000);

  test("halves that never pair are closed at the pairing deadline and their names freed", async () => {
    await using arena = await openArena({});
    await arena.group.progress(20);
    // Spread over addresses under the names cap: the pairing deadline, not the cap, is under test.
    await halfRegistered(arena.port, { prefix: "half", count: 200, perAddress: 25, deadlineMs: registerTimeoutMs + 3000 });
    expect(arena.server.users).toBe(arena.group.members.length);
    // The names are free again.
    using again = await registered(arena.port, "half7");
    await arena.group.progress(100);
    again.close();
    await arena.finish();
  }, 20_000);

  test("a receiver that never reads is cut off, failing every SEND to it", async () => {
    await using arena = await openArena({ limits: unthrottled, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    // Far past the 256 KiB cap plus whatever the kernel buffers on loopback.
    const failed = await neverReads(arena.port, { victim: "sloth", flooder: "flood", messages: 200, bodyBytes: 60_000, deadlineMs: 8000 });
    expect(failed).toBe(200);
    await arena.group.progress(100);
    expect(arena.server.connections).toBe(arena.honestConnections());
    await arena.finish();
  }, 20_000);

  test("tiny FORWARDs queued to a blocked receiver do not pin the sender's 512 KiB read chunks", async () => {
    // The default 8 MiB cap, so the kernel buffers can fill and block the outbox without tripping it.
    // Rates lifted: the attack is hundreds of MB, and what is under test is what the server holds, not how fast it reads.
    await using arena = await openArena({ limits: { maxQueuedBytes: 8 * 1024 * 1024, ackTimeoutMs: 10_000, ...unthrottled }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    const victimSend = await Peer.connect(arena.port, "victim(send)");
    const victimRecv = await Peer.connect(arena.port, "victim(recv)");
    victimSend.send("REGISTER TOSEND victim\n\n");
    await victimSend.receives("REGISTERED TOSEND victim\n\n");
    victimRecv.send("REGISTER TORECV victim\n\n");
    await victimRecv.receives("REGISTERED TORECV victim\n\n");
    victimRecv.pause();
    using witness = await registered(arena.port, "witness");
    // 7 MB of FORWARDs fill the kernel's buffers; the outbox then holds the rest, under the cap.
    const big = new Uint8Array(60_000).fill(0x62);
    const fill = Buffer.concat(Array.from({ length: 117 }, () => Buffer.concat([encoder.encode(`SEND victim\nContent-length: ${big.length}\n\n`), big])));
    // Then 800 one-byte FORWARDs, each read in its own ~512 KiB chunk of padding (SENDs to nobody).
    const pad = Buffer.concat([encoder.encode("SEND nobody\nContent-length: 65000\n\n"), new Uint8Array(65_000)]);
    const unit = Buffer.concat([...Array.from({ length: 7 }, () => pad), encoder.encode("SEND victim\nContent-length: 1\n\nz")]);
    const register = encoder.encode("REGISTER TOSEND pinner\n\nREGISTER TORECV pinner\n\n");
    const attack = await pour(arena.port, {
      prefix: Buffer.concat([register, fill]),
      unit,
      total: unit.length * 800,
      // Proof that the server read everything before it.
      suffix: encoder.encode("SEND witness\nContent-length: 4\n\ndone"),
    });
    expect(await attack.written).toBe(unit.length * 800);
    await witness.receives("FORWARD pinner\nContent-length: 4\n\ndone", 10_000);
    arena.rss.sample();
    attack.end();
    victimSend.close();
    victimRecv.close();
    await arena.group.progress(100);
    await arena.finish();
  }, 30_000);

  test("replies held behind an unanswered SEND stop the server reading that connection (D30)", async () => {
    // A long ack deadline, and rates that would let the pipeline in: only the backlog may stop it.
    const limits = { ackTimeoutMs: 10_000, rateMessages: 10_000_000, burstMessages: 10_000_000, rateBytes: 2 ** 40, burstBytes: 2 ** 40 };
    await using arena = await openArena({ limits, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    // What the kernel's loopback buffers take besides, generously.
    const boundBytes = 16 * 1024 * 1024;
    const sent = await hog(arena.port, { name: "hog", accomplice: "accomplice", totalBytes: 64 * 1024 * 1024, boundBytes, honest: () => arena.group.progress(200) });
    expect(sent).toBeLessThan(boundBytes);
    await arena.group.progress(100);
    await arena.finish();
  }, 30_000);
});
