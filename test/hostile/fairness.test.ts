// Floods against one recipient while an honest group chats (docs/protocol.md
// §6, README "Limits and fairness"): pressure goes back to whoever causes it.
// A reader that is slow but alive is neither evicted, nor robbed of its name,
// nor judged dead for time its FORWARDs spent queued in the server; one that
// only trickles is cut off by the write deadline; a throttled user's clocks stand still.

import { describe, expect, test } from "bun:test";
import { hostileLimits, openArena } from "../support/arena.ts";
import { attackerAddress, slowReader } from "../support/attackers.ts";
import { Changes } from "../support/changes.ts";
import { concat, Peer, registered } from "../support/peer.ts";
import { Child } from "../support/process.ts";
import { eventually } from "../support/server.ts";

const MiB = 1024 * 1024;
const KiB64 = 64 * 1024;
const encoder = new TextEncoder();
const unable = "ERROR 102 Unable to send";
/** The default cap on what a connection may hold unsent (the arena's 256 KiB is under one share). */
const maxQueuedBytes = 8 * MiB;
/** Byte rates out of the way where a case is about shares and clocks; message rates stay (they pace the honest group). */
const byteRatesOff = { rateBytes: 2 ** 40, burstBytes: 2 ** 40 };

/** `count` SENDs to `to` with `bodyBytes` each, back to back. */
function sends(to: string, count: number, bodyBytes: number): Uint8Array {
  const one = concat([encoder.encode(`SEND ${to}\nContent-length: ${bodyBytes}\n\n`), new Uint8Array(bodyBytes).fill(0x66)]);
  return concat(Array.from({ length: count }, () => one));
}

/** Counts what `peer` reads by first line ("SENT bob", "ERROR 102 Unable to send", "FORWARD alice"), answering every FORWARD. */
function tally(peer: Peer) {
  const counts = new Map<string, number>();
  const changes = new Changes();
  let total = 0;
  peer.listen({
    message: ({ verb, arg }) => {
      if (verb === "FORWARD") peer.send(`RECEIVED ${arg}\n\n`);
      else total++;
      counts.set(`${verb} ${arg}`, (counts.get(`${verb} ${arg}`) ?? 0) + 1);
      changes.changed();
    },
    garbled: (detail) => counts.set(`garbled: ${detail}`, 1),
    closed: () => changes.changed(),
  });
  return {
    count: (line: string) => counts.get(line) ?? 0,
    /** Waits until `count` replies (or, with `line`, that many of it) were read. */
    async until(count: number, line?: string, deadlineMs = 10_000): Promise<void> {
      const done = () => (line === undefined ? total : (counts.get(line) ?? 0)) >= count;
      await changes.until(() => done() || peer.isClosed, deadlineMs, () => `${peer.label}: waiting for ${count} ${line ?? "replies"}, have ${JSON.stringify([...counts])}`);
      if (!done()) throw new Error(`${peer.label}: closed by the server with ${JSON.stringify([...counts])}`);
    },
    toString: () => JSON.stringify(Object.fromEntries(counts)),
  };
}

function p99(latencies: readonly number[]): string {
  return `${(latencies.toSorted((a, b) => a - b)[Math.floor(latencies.length * 0.99)] ?? Number.NaN).toFixed(1)} ms`;
}

describe("fairness under floods", () => {
  test("1. a flood to one reader fills only the flooder's share: the reader stays, keeps its name and hears others", async () => {
    // Default share (1 MiB) and ack deadline; a write cap of 4 MiB, over one share (the arena's 256 KiB is
    // under it: fairness-bugs.test.ts) and under the flood; byte rates off, so the flood meets the share, not the rate.
    await using arena = await openArena({ limits: { ...byteRatesOff, maxQueuedBytes: 4 * MiB, ackTimeoutMs: 10_000 }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using victim = await slowReader(arena.port, "victim");
    using flooder = await registered(arena.port, "flooder", "flooder", attackerAddress());
    using friend = await registered(arena.port, "friend");
    const replies = tally(flooder);
    // 200 × 64 KiB in one write while the victim reads nothing.
    flooder.send(sends("victim", 200, KiB64));
    await flooder.flushed();
    using thief = await Peer.connect(arena.port, "thief", attackerAddress());
    thief.send("REGISTER TOSEND victim\n\nREGISTER TORECV victim\n\n");
    await thief.receives("ERROR 104 Username taken\n\n".repeat(2));
    friend.send("SEND victim\nContent-length: 5\n\nhello");
    await arena.group.progress(50);
    // Then it reads, slowly, then as fast as it can.
    victim.pace(2 * MiB);
    await victim.until(20);
    victim.pace(Infinity);
    await replies.until(200);
    await friend.receives("SENT victim\n\n");
    const sent = replies.count("SENT victim");
    expect(sent + replies.count(unable)).toBe(200);
    expect(sent).toBeGreaterThan(0);
    expect(replies.count(unable)).toBeGreaterThan(0);
    expect(victim.got.filter((from) => from === "flooder").length).toBe(sent);
    expect(victim.got.filter((from) => from === "friend").length).toBe(1);
    expect(victim.peer.isClosed).toBe(false);
    await arena.group.progress(50);
    console.log(`1: flooder got ${replies}; honest p99 ${p99(arena.group.latencies)}; peak RSS +${(await arena.finish()).toFixed(1)} MiB`);
  }, 20_000);

  test("2. a reader's ack clock starts when its FORWARD leaves the server, not when it was queued", async () => {
    // The arena's 1 s ack deadline, default shares and rates: 20 senders × 15 × 64 KiB (one share each)
    // queue 19 MiB for one reader at 12 MiB/s. Loopback holds ~5.5 MB per socket (Linux autotunes the
    // send buffer to 4 MiB): a FORWARD waits ~0.45 s after it left, and up to 1.6 s after it was queued.
    // (At 0.5 MiB/s the kernel alone holds it 10.5 s: fairness-bugs.test.ts.) A write cap over the flood,
    // so that only a clock could close the reader.
    const rate = 12 * MiB;
    await using arena = await openArena({ limits: { maxQueuedBytes: 32 * MiB }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using victim = await slowReader(arena.port, "victim");
    const senders = await Promise.all(Array.from({ length: 20 }, (_, i) => registered(arena.port, `sender${i}`, `sender${i}`, attackerAddress())));
    using _ = { [Symbol.dispose]: () => senders.forEach((sender) => sender.close()) };
    const replies = senders.map(tally);
    victim.pace(rate);
    const started = performance.now();
    const batch = sends("victim", 15, KiB64);
    for (const sender of senders) sender.send(batch);
    await Promise.all(replies.map((each) => each.until(15)));
    const took = performance.now() - started;
    expect(replies.map((each) => each.count("SENT victim"))).toEqual(senders.map(() => 15));
    expect(victim.peer.isClosed).toBe(false);
    // The case held: the last FORWARDs waited in the server longer than the ack deadline.
    expect(took).toBeGreaterThan(hostileLimits.ackTimeoutMs!);
    console.log(`2: 300 FORWARDs read in ${took.toFixed(0)} ms; honest p99 ${p99(arena.group.latencies)}; peak RSS +${(await arena.finish()).toFixed(1)} MiB`);
  }, 20_000);

  test("4. connections that pipeline requests behind an unanswered SEND and never read are no longer read, and memory stays put", async () => {
    // The arena's cap (the server stops reading a connection at 32 KiB of replies waiting); rates
    // off, so only that backlog (D30) can stop them, and the ack deadline far off.
    const limits = { ackTimeoutMs: 10_000, ...byteRatesOff, rateMessages: 10_000_000, burstMessages: 10_000_000 };
    await using arena = await openArena({ limits, rssGrowthMiB: 64, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using accomplice = await slowReader(arena.port, "accomplice");
    const hogs = await Promise.all(Array.from({ length: 16 }, (_, i) => neverReading(arena.port, `hog${i}`, "accomplice", 64 * MiB)));
    using _ = { [Symbol.dispose]: () => hogs.forEach((hog) => hog.peer.close()) };
    await arena.group.progress(300);
    const first = hogs.map((hog) => hog.sent());
    await arena.group.progress(300);
    const second = hogs.map((hog) => hog.sent());
    // What the kernel's loopback buffers take (some 4 MiB), generously.
    for (const sent of second) expect(sent).toBeLessThan(16 * MiB);
    expect(second).toEqual(first);
    expect(hogs.filter((hog) => hog.peer.isClosed).length).toBe(0);
    expect(accomplice.peer.isClosed).toBe(false);
    const growth = await arena.finish();
    console.log(`4: 16 hogs wrote ${(second.reduce((a, b) => a + b, 0) / MiB).toFixed(0)} MiB before they stalled; honest p99 ${p99(arena.group.latencies)}; peak RSS +${growth.toFixed(1)} MiB`);
  }, 20_000);

  test("5. one user's burst of 64 KiB broadcasts to ten readers at 8 MiB/s gets ERROR 102 past its shares, and closes nobody", async () => {
    // Default shares; rates off (300 broadcasts to 14 users would be throttled, not refused); a 3 s ack deadline, as 5.5 MB of loopback buffers take 0.7 s at 8 MiB/s.
    const limits = { maxQueuedBytes, ackTimeoutMs: 3000, ...byteRatesOff, rateMessages: 100_000, burstMessages: 100_000 };
    // 14 users each read some 6.5 MB of FORWARDs in this process, and the server may hold two 1 MiB shares for each
    // (queued, and on the wire): measured +140-190 MiB of peak RSS, most of it garbage not yet collected.
    await using arena = await openArena({ limits, rssGrowthMiB: 256, honest: { broadcast: 0, window: 1 } });
    await arena.group.progress(20);
    const readers = await Promise.all(Array.from({ length: 10 }, (_, i) => slowReader(arena.port, `reader${i}`, "127.0.0.1")));
    using _ = { [Symbol.dispose]: () => readers.forEach((reader) => reader.peer.close()) };
    for (const reader of readers) reader.pace(8 * MiB);
    using shouter = await registered(arena.port, "shouter", "shouter", attackerAddress());
    const replies = tally(shouter);
    shouter.send(sends("ALL", 300, KiB64));
    await replies.until(300, undefined, 15_000);
    expect(readers.filter((reader) => reader.peer.isClosed).length).toBe(0);
    const sent = replies.count("SENT ALL");
    expect(sent + replies.count(unable)).toBe(300);
    expect(sent).toBeGreaterThan(0);
    expect(replies.count(unable)).toBeGreaterThan(0);
    // D29: a broadcast refused for one recipient still reaches the others.
    for (const reader of readers) expect(reader.got.filter((from) => from === "shouter").length).toBeGreaterThanOrEqual(sent);
    await arena.group.progress(50);
    console.log(`5: shouter got ${replies}; honest p99 ${p99(arena.group.latencies)}; peak RSS +${(await arena.finish()).toFixed(1)} MiB`);
  }, 20_000);

  test("6. broadcasts to 150 receivers that never read: honest traffic flows, memory holds, and the idle receivers are closed", async () => {
    // Default rates (a 64 KiB broadcast to 155 users costs more than a whole burst, D32) and write cap.
    // A short write deadline, and the ack deadline as short: past default rates no FORWARD stays
    // unwritten (loopback takes ~5.5 MB per socket, 825 MB for 150), so the ack deadline is the one that fires.
    const deadlineMs = 1000;
    await using arena = await openArena({ limits: { maxQueuedBytes, writeDeadlineMs: deadlineMs, ackTimeoutMs: deadlineMs }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    // Five addresses, under the 32 names each may hold.
    const idle: Peer[] = [];
    for (let a = 0; a < 5; a++) {
      const from = attackerAddress();
      idle.push(...(await Promise.all(Array.from({ length: 30 }, (_, i) => registered(arena.port, `idle${a * 30 + i}`, `idle${a * 30 + i}`, from)))));
    }
    using _ = { [Symbol.dispose]: () => idle.forEach((peer) => peer.close()) };
    for (const peer of idle) peer.pause();
    using shouter = await registered(arena.port, "shouter", "shouter", attackerAddress());
    const replies = tally(shouter);
    const started = performance.now();
    // Five broadcasts that reach everyone, then 300 of 64 KiB (20 MB, 3 GB if forwarded): each refused, and paid for, so read at the byte rate.
    shouter.send(concat([sends("ALL", 5, 1024), sends("ALL", 300, KiB64)]));
    // The idle ones never answer: closed at their deadline, which fails the five.
    await replies.until(5, unable, deadlineMs + 5000);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(deadlineMs - 50);
    await eventually(() => arena.server.connections === arena.honestConnections() + 1, "the idle receivers are gone", 2000);
    await arena.group.progress(200);
    console.log(`6: idle receivers closed after ${took.toFixed(0)} ms; shouter got ${replies}; honest p99 ${p99(arena.group.latencies)}; peak RSS +${(await arena.finish()).toFixed(1)} MiB`);
  }, 20_000);

  test("9. a reader that trickles a byte every 50 ms is closed by the write deadline, and its senders get ERROR 102", async () => {
    const writeDeadlineMs = 1500;
    // The default ack deadline is far off: only the write deadline can close it in time.
    await using arena = await openArena({ limits: { ...byteRatesOff, maxQueuedBytes, ackTimeoutMs: 10_000, writeDeadlineMs }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    await using trickler = new Child(["perl", "-e", trickle, String(arena.port), attackerAddress(), "trickler"], {}, "trickler");
    await trickler.line("stdout", "ready");
    const senders = await Promise.all(["s1", "s2"].map((name) => registered(arena.port, name, name, attackerAddress())));
    using _ = { [Symbol.dispose]: () => senders.forEach((sender) => sender.close()) };
    const replies = senders.map(tally);
    // More than the loopback buffers and both shares hold: some FORWARDs stay unwritten.
    const started = performance.now();
    for (const sender of senders) sender.send(sends("trickler", 60, KiB64));
    await Promise.all(replies.map((each) => each.until(60, unable, writeDeadlineMs + 3000)));
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(writeDeadlineMs - 50);
    await eventually(() => arena.server.users === arena.group.members.length + 2, "the trickler is gone", 2000);
    await arena.group.progress(50);
    console.log(`9: trickler closed after ${took.toFixed(0)} ms; honest p99 ${p99(arena.group.latencies)}; peak RSS +${(await arena.finish()).toFixed(1)} MiB`);
  }, 20_000);

  test("10. a throttled user on one connection is not judged dead while the server withholds reading it", async () => {
    // 500 SENDs at 300 messages a second past a burst of 50: not read for ~1.5 s, past the 1 s ack deadline.
    const limits = { rateMessages: 300, burstMessages: 50 };
    await using arena = await openArena({ limits, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    using chatty = await registered(arena.port, "chatty", "chatty", attackerAddress());
    using pal = await registered(arena.port, "pal");
    const chattyTally = tally(chatty);
    const palTally = tally(pal);
    chatty.send(concat(Array.from({ length: 500 }, (_, i) => encoder.encode(`SEND alice\nContent-length: ${String(i).length}\n\n${i}`))));
    await chatty.flushed();
    // FORWARDs to chatty while it is withheld: its RECEIVEDs wait unread behind its own pipeline.
    const started = performance.now();
    pal.send(sends("chatty", 5, 10));
    await palTally.until(5, "SENT chatty", 10_000);
    const took = performance.now() - started;
    await chattyTally.until(500, "SENT alice", 10_000);
    expect(chattyTally.count("FORWARD pal")).toBe(5);
    expect(chatty.isClosed).toBe(false);
    // The case held: chatty's answers were withheld longer than the ack deadline.
    expect(took).toBeGreaterThan(hostileLimits.ackTimeoutMs!);
    await arena.group.progress(50);
    console.log(`10: pal's SENT came after ${took.toFixed(0)} ms; honest p99 ${p99(arena.group.latencies)}; peak RSS +${(await arena.finish()).toFixed(1)} MiB`);
  }, 20_000);
});

/**
 * A registered user that never reads: a SEND to `accomplice` (who never
 * answers, so every later reply waits behind it, docs/protocol.md D14), then
 * idempotent REGISTERs, one block at a time as its socket drains.
 */
async function neverReading(port: number, name: string, accomplice: string, totalBytes: number) {
  const peer = await registered(port, name, name, attackerAddress());
  peer.pause();
  peer.send(`SEND ${accomplice}\nContent-length: 1\n\nx`);
  const block = encoder.encode(`REGISTER TOSEND ${name}\n\n`.repeat(8192));
  let sent = 0;
  void (async () => {
    while (sent < totalBytes && !peer.isClosed) {
      peer.send(block);
      await peer.flushed();
      if (!peer.isClosed) sent += block.length;
    }
  })();
  return { peer, sent: () => sent };
}

/**
 * perl, because a Bun socket reads whatever the kernel holds: connect from
 * ARGV[1] with a small receive buffer, register ARGV[2] on one connection,
 * print "ready", then read one byte every 50 ms and never answer.
 */
const trickle = `
use strict; use IO::Socket::INET; use Socket;
my ($port, $from, $name) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => $from, Proto => "tcp") or die "socket: $!";
setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096);
connect($s, pack_sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!";
print $s "REGISTER TOSEND $name\\n\\nREGISTER TORECV $name\\n\\n";
my $want = "REGISTERED TOSEND $name\\n\\nREGISTERED TORECV $name\\n\\n";
my $got = "";
while (length($got) < length($want)) { sysread($s, $got, length($want) - length($got), length($got)) or die "closed"; }
die "unexpected: $got" unless $got eq $want;
$| = 1; print "ready\\n";
while (sysread($s, my $byte, 1)) { select(undef, undef, undef, 0.05); }
print "closed\\n";
`;
