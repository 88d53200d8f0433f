// Faults with real processes (docs/protocol.md D16-D18, D22): a recipient
// killed or frozen mid-transaction, a sender killed mid-transaction, the
// server stopped with SIGTERM under load, and the server killed and started
// again on the same port. Honest users chat throughout and the invariant
// checker holds them to PROTOCOL.md §4.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HonestGroup } from "../support/honest.ts";
import { InvariantChecker } from "../support/invariants.ts";
import { Peer, registered } from "../support/peer.ts";
import { Child, spawnServer } from "../support/process.ts";
import { rng, seedFromEnv } from "../support/prng.ts";

const fixture = (...args: string[]) => new Child([process.execPath, join(import.meta.dir, "fixtures", "peer.ts"), ...args]);
const ackTimeoutMs = 1500;

/** A seed per test, printed with every failure so PARLEY_SEED=<seed> replays it. */
function seeded() {
  const seed = seedFromEnv("PARLEY_SEED", 0xfa017);
  return { seed, rng: rng(seed), checker: new InvariantChecker() };
}

function expectClean(seed: number, checker: InvariantChecker, faults: readonly string[]): void {
  const problems = [...checker.verify(), ...faults];
  if (problems.length > 0) throw new Error(`PARLEY_SEED=${seed}: ${checker.summary()}\n  ${problems.slice(0, 20).join("\n  ")}`);
}

describe("faults with real processes", () => {
  test("a recipient killed with SIGKILL mid-transaction: its sender gets ERROR 102 within the ack timeout", async () => {
    const { seed, rng: r, checker } = seeded();
    await using server = await spawnServer(["--ack-timeout-ms", String(ackTimeoutMs)]);
    using group = await HonestGroup.start({ port: server.port, names: ["alice", "carol"], checker, rng: r, broadcast: 0 });
    await using bob = fixture(String(server.port), "bob", "hold");
    await bob.line("stdout", (l) => l === "registered");
    using zed = await registered(server.port, "zed");
    zed.send("SEND bob\nContent-length: 5\n\nhello");
    await bob.line("stdout", (l) => l === "forward zed hello");
    const killedAt = performance.now();
    bob.kill("SIGKILL");
    await zed.receives("ERROR 102 Unable to send\n\n", ackTimeoutMs);
    expect(performance.now() - killedAt).toBeLessThan(ackTimeoutMs);
    // The dead user's name is free at once (it was released before the reply was written).
    using again = await registered(server.port, "bob");
    zed.send("SEND bob\nContent-length: 5\n\nagain");
    await again.receives("FORWARD zed\nContent-length: 5\n\nagain");
    again.send("RECEIVED zed\n\n");
    await zed.receives("SENT bob\n\n");
    await group.progress(100);
    await group.quiesce();
    expectClean(seed, checker, group.faults);
  }, 20_000);

  test("a recipient frozen with SIGSTOP: its sender gets ERROR 102 at the ack timeout and the recipient is dropped", async () => {
    const { seed, rng: r, checker } = seeded();
    await using server = await spawnServer(["--ack-timeout-ms", String(ackTimeoutMs)]);
    using group = await HonestGroup.start({ port: server.port, names: ["alice", "carol"], checker, rng: r, broadcast: 0 });
    await using bob = fixture(String(server.port), "bob", "hold");
    await bob.line("stdout", (l) => l === "registered");
    using zed = await registered(server.port, "zed");
    zed.send("SEND bob\nContent-length: 5\n\nhello");
    await bob.line("stdout", (l) => l === "forward zed hello");
    // Frozen: its sockets stay open, so only the ack deadline can notice (D16).
    const stoppedAt = performance.now();
    bob.kill("SIGSTOP");
    await zed.receives("ERROR 102 Unable to send\n\n", ackTimeoutMs + 2000);
    const waited = performance.now() - stoppedAt;
    expect(waited).toBeGreaterThan(ackTimeoutMs - 500);
    expect(waited).toBeLessThan(ackTimeoutMs + 1000);
    using again = await registered(server.port, "bob");
    expect(again.isClosed).toBe(false);
    bob.kill("SIGKILL");
    await group.progress(100);
    await group.quiesce();
    expectClean(seed, checker, group.faults);
  }, 20_000);

  test("a sender killed mid-transaction: the recipient is unaffected and the server forgets the sender", async () => {
    const { seed, rng: r, checker } = seeded();
    await using server = await spawnServer(["--ack-timeout-ms", "5000", "--log-level", "debug"]);
    using group = await HonestGroup.start({ port: server.port, names: ["carol", "dave"], checker, rng: r, broadcast: 0 });
    using bobSend = await Peer.connect(server.port, "bob(send)");
    using bobRecv = await Peer.connect(server.port, "bob(recv)");
    bobSend.send("REGISTER TOSEND bob\n\n");
    await bobSend.receives("REGISTERED TOSEND bob\n\n");
    bobRecv.send("REGISTER TORECV bob\n\n");
    await bobRecv.receives("REGISTERED TORECV bob\n\n");

    await using alice = fixture(String(server.port), "alice", "send", "bob", "3");
    for (let i = 1; i <= 3; i++) await bobRecv.receives(`FORWARD alice\nContent-length: 15\n\nalice message ${i}`);
    alice.kill("SIGKILL");
    // Both of alice's connections closed on the server's side (the second as the first one's partner).
    await server.line("stderr", (l) => l.includes("connection.close") && l.includes("user=alice") && l.includes("reason=partner-closed"));

    // D17: bob's answers for the dead sender are consumed in order, so bob's next delivery still matches.
    bobRecv.send("RECEIVED alice\n\n".repeat(3));
    using erin = await registered(server.port, "erin");
    erin.send("SEND bob\nContent-length: 2\n\nhi");
    await bobRecv.receives("FORWARD erin\nContent-length: 2\n\nhi");
    bobRecv.send("RECEIVED erin\n\n");
    await erin.receives("SENT bob\n\n");

    // The server forgot alice: her name registers again, from a new process, and works.
    await using alice2 = fixture(String(server.port), "alice", "send", "bob", "1");
    await bobRecv.receives("FORWARD alice\nContent-length: 15\n\nalice message 1");
    bobRecv.send("RECEIVED alice\n\n");
    await alice2.line("stdout", (l) => l === "reply SENT bob");

    expect(bobSend.isClosed || bobRecv.isClosed).toBe(false);
    expect(bobSend.unread.length + bobRecv.unread.length).toBe(0);
    await group.progress(100);
    await group.quiesce();
    expectClean(seed, checker, group.faults);
  }, 20_000);

  test("SIGTERM with traffic in flight: every SEND the server read is answered, then exit 0", async () => {
    const { seed, rng: r, checker } = seeded();
    await using server = await spawnServer(["--ack-timeout-ms", "5000"]);
    // A SEND the server provably read (its FORWARD reached someone) must be answered before the close.
    using group = await HonestGroup.start({ port: server.port, names: ["alice", "bob", "carol", "dave"], single: ["dave"], checker, rng: r, window: 8, onLoss: "read-means-answered" });
    await group.progress(200);
    // dave stops answering, so transactions are certainly open when the signal lands.
    const dave = group.member("dave");
    dave.hold();
    await group.waitFor(() => dave.heldCount >= 5, 5000, "five FORWARDs held by dave");
    const held = dave.heldCount;
    const failedBefore = checker.counts.failed;
    const signalledAt = performance.now();
    server.kill("SIGTERM");
    expect(await server.exit(4000)).toBe(0);
    // docs/protocol.md D22: at most about 2 s.
    expect(performance.now() - signalledAt).toBeLessThan(2500);
    expect(server.stderr).toContain("server.stopped");
    await group.waitFor(() => group.members.every((m) => !m.up), 3000, "the server to close every honest connection");
    // Every FORWARD dave held was answered ERROR 102 to its sender.
    expect(checker.counts.failed - failedBefore).toBeGreaterThanOrEqual(held);
    expectClean(seed, checker, group.faults);
  }, 20_000);

  test("the server killed and started again on the same port: clients reconnect and carry on under traffic", async () => {
    const { seed, rng: r, checker } = seeded();
    const first = await spawnServer();
    const port = first.port;
    // Raw clients that keep sending while others are still reconnecting; what the dead server owed is lost.
    const group = await HonestGroup.start({ port, names: ["alice", "bob", "carol", "dave"], single: ["dave"], checker, rng: r, onLoss: "lenient", reconnectForMs: 10_000 });
    try {
      await group.progress(200);
      first.kill("SIGKILL");
      await first.exit();
      await using second = await spawnServer(["--port", String(port)]);
      await group.waitFor(() => group.members.every((m) => m.up), 10_000, "every client to reconnect");
      await group.progress(500, 10_000);
      await group.quiesce();
      expect(checker.counts.lost).toBeGreaterThan(0);
      expect(second.port).toBe(port);
      expectClean(seed, checker, group.faults);
    } finally {
      group.close();
      await first[Symbol.asyncDispose]();
    }
  }, 30_000);

  test("the server killed and started again on the same port: parley's own clients reconnect and carry on", async () => {
    const { seed, rng: r, checker } = seeded();
    const first = await spawnServer();
    const port = first.port;
    const group = await HonestGroup.start({ port, names: ["alice", "bob", "carol", "dave"], clients: "session", checker, rng: r });
    try {
      await group.progress(100);
      first.kill("SIGKILL");
      await first.exit();
      await group.waitFor(() => group.members.every((m) => !m.up), 5000, "every client to see the server gone");
      await using second = await spawnServer(["--port", String(port)]);
      await group.waitFor(() => group.allUp, 10_000, "every client to reconnect");
      await group.progress(200, 10_000);
      await group.quiesce();
      for (const member of group.members) expect(member.connects).toBe(2);
      expect(second.port).toBe(port);
      expectClean(seed, checker, group.faults);
    } finally {
      await group.close();
      await first[Symbol.asyncDispose]();
    }
  }, 30_000);
});
