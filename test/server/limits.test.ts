// PROTOCOL.md §1 "Limits" over real sockets, with small limits so each edge
// is cheap to reach: the header and body limits at their exact edge, a full
// 64 KiB body through a reader that lags, the slow-consumer cap and keepalive.
// The ack deadline and the pending-FORWARD cap are in test/scenarios/failures.ts.

import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { defaultLimits } from "../../src/protocol/limits.ts";
import { eventually, openCast } from "../support/server.ts";
import { concat, register } from "../support/peer.ts";

const ERROR_102 = "ERROR 102 Unable to send\n\n";
const ERROR_103 = "ERROR 103 Header incomplete\n\n";
const MiB = 1024 * 1024;

/** `REGISTER TOSEND <name>` padded with an unknown field to exactly `total` header bytes. */
function paddedRegister(name: string, total: number): string {
  const bare = `REGISTER TOSEND ${name}\nX-Pad: \n\n`;
  const block = `REGISTER TOSEND ${name}\nX-Pad: ${"p".repeat(total - bare.length)}\n\n`;
  if (block.length !== total) throw new Error(`cannot pad to ${total} bytes`);
  return block;
}

/** Distinct, non-repeating bytes per message, so a shifted or mixed-up body cannot match. */
function bodyFor(index: number, size: number): Uint8Array {
  const body = new Uint8Array(size);
  let x = (index + 1) * 0x9e3779b1;
  for (let i = 0; i < size; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    body[i] = x & 0xff;
  }
  return body;
}

const encoder = new TextEncoder();
const message = (head: string, body: Uint8Array) => concat([encoder.encode(`${head}\nContent-length: ${body.length}\n\n`), body]);

describe("limits", () => {
  describe("header block size (maxHeaderBytes)", () => {
    const limits = { maxHeaderBytes: 64 };

    test("accepts header blocks of exactly maxHeaderBytes, counted afresh for each message", async () => {
      await using cast = openCast(limits);
      const peer = await cast.connect();
      const block = paddedRegister("alice", 64);
      peer.send(block + block);
      await peer.receives("REGISTERED TOSEND alice\n\n".repeat(2));
      cast.expectNothingUnread();
    });

    test("answers ERROR 103 and closes at maxHeaderBytes + 1", async () => {
      await using cast = openCast(limits);
      const peer = await cast.connect();
      peer.send(paddedRegister("alice", 65));
      await peer.receives(ERROR_103);
      await peer.closes();
    });

    test("refuses an unterminated header block as soon as it passes maxHeaderBytes", async () => {
      await using cast = openCast(limits);
      const peer = await cast.connect();
      peer.send(`REGISTER TOSEND alice\nX-Pad: ${"p".repeat(64)}`);
      await peer.receives(ERROR_103);
      await peer.closes();
    });
  });

  describe("body size (maxBodyBytes)", () => {
    const limits = { maxBodyBytes: 16 };

    test("delivers a body of exactly maxBodyBytes", async () => {
      await using cast = openCast(limits);
      const alice = await cast.join("alice");
      const bob = await cast.join("bob");
      const body = "0123456789abcdef";
      alice.sender.send(`SEND bob\nContent-length: ${body.length}\n\n${body}`);
      await bob.receiver.receives(`FORWARD alice\nContent-length: 16\n\n${body}`);
      bob.receiver.send("RECEIVED alice\n\n");
      await alice.sender.receives("SENT bob\n\n");
      cast.expectNothingUnread();
    });

    test("answers ERROR 103 and closes on a Content-length of maxBodyBytes + 1 before any body byte is sent", async () => {
      await using cast = openCast(limits);
      const alice = await cast.join("alice");
      const bob = await cast.join("bob");
      // The body is never written: the refusal must not wait for it.
      alice.sender.send("SEND bob\nContent-length: 17\n\n");
      await alice.sender.receives(ERROR_103);
      await alice.sender.closes();
      await alice.receiver.closes();
      cast.expectNothingUnread();
      expect(bob.receiver.isClosed).toBe(false);
    });
  });

  // Linux loopback took about 4 MB written to a paused reader before write()
  // went short (BUN-NOTES.md measured 3.9 MB); 128 bodies of 64 KiB are twice
  // that, so the server's outbox must keep tails and wait for `drain`.
  const count = 128;

  test("delivers bodies of exactly the default 64 KiB byte-exact to a receiver that reads slowly", async () => {
    const size = defaultLimits.maxBodyBytes;
    expect(size).toBe(64 * 1024);
    // One sender floods one recipient on purpose: its share and its burst are raised to let it (docs/protocol.md §6).
    await using cast = openCast({ maxQueuedBytes: 64 * MiB, maxShareBytes: 64 * MiB, burstBytes: 64 * MiB });
    const alice = await cast.join("alice");
    const bob = await cast.join("bob");
    const carol = await cast.join("carol");
    const bodies = Array.from({ length: count }, (_, i) => bodyFor(i, size));

    bob.receiver.pause();
    alice.sender.send(concat([...bodies.map((body) => message("SEND bob", body)), message("SEND carol", encoder.encode("sync"))]));
    // SENDs are handled in order, so once carol has hers, every FORWARD to bob
    // has been handed to bob's connection, about half of it still queued in parley.
    await carol.receiver.receives("FORWARD alice\nContent-length: 4\n\nsync");
    carol.receiver.send("RECEIVED alice\n\n");

    bob.receiver.resume();
    for (const body of bodies) {
      await bob.receiver.receives(message("FORWARD alice", body), 5000);
      bob.receiver.send("RECEIVED alice\n\n");
    }
    await alice.sender.receives("SENT bob\n\n".repeat(count) + "SENT carol\n\n", 5000);
    cast.expectNothingUnread();
  }, 15_000);

  test("closes a receiver that stops reading by the write deadline, not the write cap, failing the SENDs in flight to it with ERROR 102 (D28)", async () => {
    const size = defaultLimits.maxBodyBytes;
    // Shares and burst raised so all of them queue; a write cap far below what is queued, which FORWARDs must not trip.
    await using cast = openCast({ maxQueuedBytes: 256 * 1024, maxShareBytes: 64 * MiB, burstBytes: 64 * MiB, writeDeadlineMs: 500 });
    const alice = await cast.join("alice");
    const bob = await cast.join("bob");
    const carol = await cast.join("carol");

    bob.receiver.pause();
    const sends = Array.from({ length: count }, (_, i) => message("SEND bob", bodyFor(i, size)));
    alice.sender.send(concat([...sends, message("SEND carol", encoder.encode("sync"))]));
    await carol.receiver.receives("FORWARD alice\nContent-length: 4\n\nsync");
    carol.receiver.send("RECEIVED alice\n\n");

    // Some FORWARDs sit in bob's socket, the rest in the server; when the oldest
    // not fully written passes the deadline bob is closed, every one is ERROR 102, and only then the SENT.
    await alice.sender.receives(ERROR_102.repeat(count) + "SENT carol\n\n", 5000);
    // Dropping bob's receiving connection ended bob's registration.
    await bob.sender.closes();
    expect(cast.server.users).toBe(2);
    await register(await cast.connect("bob again"), "TOSEND", "bob");
  }, 15_000);

  describe("keepalive", () => {
    test("turns on TCP keepalive with keepAliveMs of idle time on every accepted connection", async () => {
      const keepAliveMs = 9000;
      await using cast = openCast({ keepAliveMs });
      await cast.connect();
      // No bytes are exchanged: unacknowledged data would show the retransmit timer instead.
      await eventually(() => cast.server.connections === 1, "the server accepts the connection");
      const accepted = await serverSideSockets(cast.port);
      expect(accepted).toHaveLength(1);
      // /proc/net/tcp "tr" 2 is the keepalive timer; "tm->when" counts down in USER_HZ (100/s) ticks.
      const [timer, ticks] = accepted[0]!.timer;
      expect(timer).toBe(2);
      expect(ticks * 10).toBeGreaterThan(keepAliveMs - 3000);
      expect(ticks * 10).toBeLessThanOrEqual(keepAliveMs + 50);
    });
  });
});

type TcpRow = { timer: [kind: number, ticks: number] };

/** The established sockets whose local port is `port` (the server's side), from Linux /proc/net/tcp{,6}. */
async function serverSideSockets(port: number): Promise<TcpRow[]> {
  const rows: TcpRow[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    // node:fs, not Bun.file: /proc files report size 0, and Bun.file reads by size.
    const table = await readFile(file, "latin1").catch(() => "");
    for (const line of table.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || parseInt(local.slice(local.lastIndexOf(":") + 1), 16) !== port) continue;
      if (fields[3] !== "01") continue; // ESTABLISHED
      const [kind, ticks] = fields[5]!.split(":");
      rows.push({ timer: [parseInt(kind!, 16), parseInt(ticks!, 16)] });
    }
  }
  return rows;
}
