// A WebSocket reader that never reads (docs/protocol.md §6, D26-D28, D48),
// beside the honest group chatting over TCP and WebSocket at once. A WebSocket
// object cannot stop reading, so this one is made by hand over a raw socket,
// which it then pauses for good: what the server writes piles up in its
// kernel, then in the server, which must hold only what the rules allow.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { openArena } from "../support/arena.ts";
import { attackerAddress } from "../support/attackers.ts";
import { Changes } from "../support/changes.ts";
import { concat, Peer } from "../support/peer.ts";
import { eventually } from "../support/server.ts";

const encoder = new TextEncoder();
const KiB = 1024;
/** Rates no test here reaches: the senders must meet their shares, not their own budgets (D32 has its own tests). */
const unthrottled = { rateMessages: 10_000_000, burstMessages: 100_000_000, rateBytes: 2 ** 40, burstBytes: 2 ** 40 };

test("a WebSocket reader that never reads: its senders get ERROR 102 at once past their shares, and for the rest when the write deadline closes it as a slow consumer", async () => {
  // Ack and delivery deadlines far off, so that only the write deadline can close it (D28); rates off,
  // so that its senders meet their shares (D26) and not their own budgets (D32).
  const writeDeadlineMs = 1500;
  const limits = { ...unthrottled, ackTimeoutMs: 30_000, deliveryDeadlineMs: 30_000, writeDeadlineMs };
  // broadcast: 0, as in the TCP form of this test: the sloth would fail every broadcast until it is closed (D29).
  // The 19 MB flood passes through both ends in this process: peak RSS growth is mostly garbage
  // not yet collected (the TCP form, resources.test.ts, ~80 MiB), far under a leak's 300+.
  await using arena = await openArena({ http: true, limits, rssGrowthMiB: 160, honest: { broadcast: 0 } });
  await arena.group.progress(20);
  using sloth = await neverReadingWebSocket(arena.server.httpPort!, "sloth", attackerAddress());
  // The server holds at most a share (1 MiB) unanswered per sender (D26): eight senders' shares together
  // are past what the kernel's buffers take (~6 MB measured), so the server must hold some of it.
  const senders = await Promise.all(["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"].map((name) => withReasons(arena.port, name)));
  using _ = { [Symbol.dispose]: () => senders.forEach((sender) => sender.close()) };
  const replies = senders.map(tally);
  const bodyBytes = 60 * KiB;

  // Two FORWARDs, far under any limit: its kernel holds them, unread.
  senders[0]!.send(sends("sloth", 2, bodyBytes));
  await eventually(() => (sloth.kernelHolds() ?? 0) >= bodyBytes, "the sloth's kernel to hold a FORWARD it did not read");
  expect(sloth.read()).toBe(0);

  // Then 19 MB (one block from each sender): past the kernel's buffers and past every sender's share.
  const started = performance.now();
  const perSender = 40;
  const flood = sends("sloth", perSender, bodyBytes);
  for (const sender of senders) sender.send(flood);
  const expected = (i: number) => (i === 0 ? perSender + 2 : perSender);
  await Promise.all(replies.map((each, i) => each.until(expected(i), writeDeadlineMs + 5000)));
  const tookMs = performance.now() - started;
  // D26: past its share, ERROR 102 at once (busy); D28: what the server held (a share each, so some for
  // each sender), and what the sloth never answered, when the write deadline closes it as a slow consumer (offline).
  for (const [i, each] of replies.entries()) {
    expect(each.count("ERROR 102 busy") + each.count("ERROR 102 offline")).toBe(expected(i));
    expect(each.count("ERROR 102 offline")).toBeGreaterThan(0);
  }
  // Which sender's FORWARDs the kernel took first varies; together they went past their shares.
  expect(replies.reduce((n, each) => n + each.count("ERROR 102 busy"), 0)).toBeGreaterThan(0);
  expect(tookMs).toBeGreaterThanOrEqual(writeDeadlineMs - 50);
  expect(arena.logged("recipient.timeout").map(({ user, deadline }) => ({ user, deadline }))).toEqual([{ user: "sloth", deadline: "write" }]);
  // D27: the server kept the FORWARDs it could still drop, so the connection never passed its write cap.
  expect(arena.logged("connection.slow-consumer")).toEqual([]);
  await eventually(() => arena.server.users === arena.group.members.length + senders.length, "the sloth's name to be released");
  await arena.group.progress(100);
  const growth = await arena.finish();
  console.log(`sloth closed by the write deadline ${tookMs.toFixed(0)} ms into the flood; ${replies.map((each, i) => `s${i + 1} ${each}`).join(", ")}; peak RSS +${growth.toFixed(1)} MiB`);
}, 20_000);

/** A user on one TCP connection from an attacker address whose ERROR 102s carry their Reason (docs/protocol.md D50). */
async function withReasons(port: number, name: string): Promise<Peer> {
  const peer = await Peer.connect(port, name, attackerAddress());
  peer.send(`REGISTER TOSEND ${name}\nExtensions: reasons\n\nREGISTER TORECV ${name}\n\n`);
  const granted = "Extensions: reasons\nMax-Body-Bytes: 65536\n\n";
  await peer.receives(`REGISTERED TOSEND ${name}\n${granted}REGISTERED TORECV ${name}\n${granted}`);
  return peer;
}

/** Counts the replies `peer` reads ("SENT sloth", "ERROR 102 busy"): a verb and, for ERROR, its Reason. */
function tally(peer: Peer) {
  const counts = new Map<string, number>();
  const changes = new Changes();
  let total = 0;
  peer.listen({
    message({ verb, arg, reason }) {
      const key = verb === "ERROR" ? `ERROR ${arg.split(" ")[0]} ${reason}` : `${verb} ${arg}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
      changes.changed();
    },
    garbled: (detail) => counts.set(`garbled: ${detail}`, 1),
    closed: () => changes.changed(),
  });
  return {
    count: (key: string) => counts.get(key) ?? 0,
    /** Waits until `count` replies were read. */
    async until(count: number, deadlineMs: number): Promise<void> {
      await changes.until(() => total >= count || peer.isClosed, deadlineMs, () => `${peer.label}: waiting for ${count} replies, have ${JSON.stringify([...counts])}`);
      if (total < count) throw new Error(`${peer.label}: closed by the server with ${JSON.stringify([...counts])}`);
    },
    toString: () => JSON.stringify(Object.fromEntries(counts)),
  };
}

/** `count` SENDs to `to` with `bodyBytes` each, back to back. */
function sends(to: string, count: number, bodyBytes: number): Uint8Array {
  const one = concat([encoder.encode(`SEND ${to}\nContent-length: ${bodyBytes}\n\n`), new Uint8Array(bodyBytes).fill(0x66)]);
  return concat(Array.from({ length: count }, () => one));
}

/**
 * A WebSocket client made by hand over a raw TCP socket from `from`, because a
 * WebSocket object cannot stop reading: it upgrades, registers both roles of
 * `name` on its one connection, and then pauses its socket for good, so that
 * what the server writes piles up in the kernel (kernelHolds()) and then in the server.
 */
async function neverReadingWebSocket(port: number, name: string, from: string) {
  const changes = new Changes();
  let got: Uint8Array = new Uint8Array(0);
  let closed = false;
  const socket = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port,
    // Supported by Bun 1.4.5, though its types leave it out.
    ...{ localAddress: from },
    socket: {
      data(_socket, chunk) {
        got = concat([got, chunk]);
        changes.changed();
      },
      close: () => void ((closed = true), changes.changed()),
      error: () => void ((closed = true), changes.changed()),
    },
  });
  const wait = (done: () => boolean, what: string) => changes.until(() => done() || closed, 3000, () => `${name}: ${what}, have ${JSON.stringify(new TextDecoder().decode(got))}`);
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await wait(() => Buffer.from(got).includes("\r\n\r\n"), "waiting for the upgrade");
  const headEnd = Buffer.from(got).indexOf("\r\n\r\n") + 4;
  expect(new TextDecoder().decode(got.subarray(0, headEnd))).toStartWith("HTTP/1.1 101");
  got = got.subarray(headEnd);
  socket.write(concat([clientFrame(`REGISTER TOSEND ${name}\n\n`), clientFrame(`REGISTER TORECV ${name}\n\n`)]));
  const registeredFrames = concat([serverFrame(`REGISTERED TOSEND ${name}\n\n`), serverFrame(`REGISTERED TORECV ${name}\n\n`)]);
  await wait(() => got.length >= registeredFrames.length, "waiting for REGISTERED");
  expect(Buffer.from(got).equals(Buffer.from(registeredFrames))).toBe(true);
  socket.pause();
  const local = socket.localPort;
  got = new Uint8Array(0);
  changes.changed();
  return {
    /** Bytes read since it paused: none, if pausing works. */
    read: () => got.length,
    isClosed: () => closed,
    /** What the kernel holds unread for it (/proc/net/tcp's rx_queue), or undefined once the socket is gone. */
    kernelHolds: () => receiveQueue(from, local, port),
    [Symbol.dispose]: () => socket.terminate(),
  };
}

/** A client's WebSocket frame (RFC 6455 §5.2): final, binary, masked; payloads under 126 bytes. */
function clientFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  const mask = [0x37, 0xfa, 0x21, 0x3d];
  return Uint8Array.from([0x82, 0x80 | payload.length, ...mask, ...payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

/** A server's: final, binary, unmasked. */
function serverFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  return Uint8Array.from([0x82, payload.length, ...payload]);
}

/** The rx_queue of the IPv4 socket from `address`:`localPort` to 127.0.0.1:`remotePort` in /proc/net/tcp. */
function receiveQueue(address: string, localPort: number, remotePort: number): number | undefined {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, "0");
  const ip = (dotted: string) => dotted.split(".").reverse().map((part) => hex(Number(part), 2)).join("");
  const local = `${ip(address)}:${hex(localPort, 4)}`;
  const remote = `${ip("127.0.0.1")}:${hex(remotePort, 4)}`;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[2] === remote) return Number.parseInt(fields[4]!.split(":")[1]!, 16);
  }
  return undefined;
}
