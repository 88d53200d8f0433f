// Graceful shutdown (docs/protocol.md D18, D21, D22) through RunningServer.stop():
// every SEND in flight is answered, every socket is closed, and stop() resolves
// within 2 s even when a client has stopped reading.

import { describe, expect, test } from "bun:test";
import { openCast } from "../support/server.ts";
import { Peer, register } from "../support/peer.ts";

const ERROR_102 = "ERROR 102 Unable to send\n\n";
const stopBudgetMs = 2000;

async function timedStop(stop: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await stop();
  return performance.now() - started;
}

describe("server.stop", () => {
  test("answers every SEND in flight ERROR 102 in order, closes every socket and resolves within 2 s", async () => {
    await using cast = openCast();
    const alice = await cast.join("alice");
    const bob = await cast.join("bob");
    const carol = await cast.join("carol", "single-connection");
    const idle = await cast.connect("idle");
    const half = await cast.connect("dave(half)");
    await register(half, "TOSEND", "dave");

    // alice: one SEND bob held by bob, one SEND carol already answered but queued behind it, one to nobody.
    alice.sender.send("SEND bob\nContent-length: 1\n\naSEND carol\nContent-length: 1\n\nbSEND nobody\nContent-length: 1\n\nc");
    await bob.receiver.receives("FORWARD alice\nContent-length: 1\n\na");
    await carol.receiver.receives("FORWARD alice\nContent-length: 1\n\nb");
    carol.receiver.send("RECEIVED alice\n\n");
    // carol: a broadcast that bob and alice hold unanswered.
    carol.sender.send("SEND ALL\nContent-length: 1\n\nd");
    await bob.receiver.receives("FORWARD carol\nContent-length: 1\n\nd");
    await alice.receiver.receives("FORWARD carol\nContent-length: 1\n\nd");

    const took = await timedStop(() => cast.server.stop());
    expect(took).toBeLessThan(stopBudgetMs);

    // D22: an already acknowledged SEND still gets its SENT, in order.
    await alice.sender.receives(ERROR_102 + "SENT carol\n\n" + ERROR_102);
    await carol.sender.receives(ERROR_102);
    for (const peer of [alice.sender, alice.receiver, bob.sender, bob.receiver, carol.sender, idle, half]) await peer.closes();
    expect(cast.server.connections).toBe(0);
  });

  test("resolves within 2 s when a client has stopped reading, dropping its socket", async () => {
    // One sender floods one recipient on purpose: its share and its burst are raised to let it (docs/protocol.md §6).
    const MiB = 1024 * 1024;
    await using cast = openCast({ maxQueuedBytes: 64 * MiB, maxShareBytes: 64 * MiB, burstBytes: 64 * MiB });
    const alice = await cast.join("alice");
    const bob = await cast.join("bob");
    const carol = await cast.join("carol");
    bob.receiver.pause();
    // About 8 MiB for bob, more than loopback buffers hold, so parley still has bytes queued for him.
    const body = "x".repeat(64 * 1024);
    alice.sender.send(`SEND bob\nContent-length: ${body.length}\n\n${body}`.repeat(128) + "SEND carol\nContent-length: 4\n\nsync");
    await carol.receiver.receives("FORWARD alice\nContent-length: 4\n\nsync");

    const took = await timedStop(() => cast.server.stop());
    expect(took).toBeLessThan(stopBudgetMs);
    await alice.sender.receives(ERROR_102.repeat(129), 5000);
    for (const peer of [alice.sender, alice.receiver, bob.sender, carol.sender, carol.receiver]) await peer.closes();
    expect(cast.server.connections).toBe(0);
  }, 10_000);

  test("stops accepting connections", async () => {
    await using cast = openCast();
    const port = cast.port;
    await cast.server.stop();
    await expect(Peer.connect(port)).rejects.toThrow();
  });

  test("is idempotent: a second stop() resolves too", async () => {
    await using cast = openCast();
    const alice = await cast.join("alice");
    await Promise.all([cast.server.stop(), cast.server.stop()]);
    await alice.sender.closes();
    await alice.receiver.closes();
  });
});
