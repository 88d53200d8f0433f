// Hostile clients for test/hostile and scripts/soak.ts. Each one attacks a
// live server over real sockets, waits (with a deadline) for the server's
// documented reaction, and returns what it saw, or throws saying what the
// server failed to do. All are bounded in bytes, connections and time.

import { Changes } from "./changes.ts";
import { Peer, register, registered, show } from "./peer.ts";
import type { Rng } from "./prng.ts";

const encoder = new TextEncoder();
const error103 = "ERROR 103 Header incomplete\n\n";

// docs/protocol.md §6 "Connections": each attack comes from an address of its
// own (127.0.0.2, 127.0.0.3, ...), so the per-address caps are exercised, not
// exempted, and the honest users on 127.0.0.1 keep their share.
let lastHost = 1;

/** The next attacker's address. */
export function attackerAddress(): string {
  lastHost = lastHost >= 254 ? 2 : lastHost + 1;
  return `127.0.0.${lastHost}`;
}

/** Connects from a fresh attacker address, and registers both roles of `name` on this one connection if given. */
function connect(port: number, label: string, name?: string): Promise<Peer> {
  const from = attackerAddress();
  return name === undefined ? Peer.connect(port, label, from) : registered(port, name, label, from);
}

/** Waits for the server to close `peer`; with `last`, checks that what it wrote before ends with those words. */
async function closedBy(peer: Peer, deadlineMs: number, last?: string): Promise<void> {
  try {
    await peer.closes(deadlineMs);
  } catch (error) {
    // closes() refuses unread bytes; here they are the point.
    if (!peer.isClosed) throw new Error(`${peer.label}: not closed by the server: ${(error as Error).message}`);
  }
  if (last !== undefined && !new TextDecoder().decode(peer.unread).endsWith(last)) {
    throw new Error(`${peer.label}: expected the server's last words to be ${JSON.stringify(last)}, got ${show(peer.unread)}`);
  }
}

/** Random bytes, before or after registering: ERROR 103, then the close. */
export async function garbage(port: number, rng: Rng, options: { bytes?: number; name?: string; deadlineMs?: number } = {}): Promise<void> {
  const peer = await connect(port, `garbage(${options.name ?? "anonymous"})`, options.name);
  // Twice the header limit: with or without a blank line in it, the framer must give up.
  const junk = rng.bytes(options.bytes ?? 16 * 1024);
  junk[0] = 0x7f; // never a blank line or a verb: the first message is certainly garbage
  peer.send(junk);
  await closedBy(peer, options.deadlineMs ?? 3000, error103);
}

/** A SEND whose header never ends: ERROR 103 as soon as it passes the header limit. */
export async function endlessHeader(port: number, options: { maxHeaderBytes: number; name?: string; deadlineMs?: number }): Promise<void> {
  const peer = await connect(port, "endless-header", options.name);
  peer.send("SEND bob\n");
  const line = encoder.encode("X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
  // Written in many small pieces: the limit must hold while the block accumulates.
  for (let sent = 0; sent <= options.maxHeaderBytes * 2 && !peer.isClosed; sent += line.length) peer.send(line);
  await closedBy(peer, options.deadlineMs ?? 3000, error103);
}

/** `Content-length: 1000000000000`, then body bytes: refused before any body byte is kept. */
export async function hugeLength(port: number, options: { name?: string; deadlineMs?: number } = {}): Promise<void> {
  const peer = await connect(port, "huge-length", options.name);
  peer.send("SEND bob\nContent-length: 1000000000000\n\n");
  peer.send(new Uint8Array(256 * 1024).fill(0x61));
  await closedBy(peer, options.deadlineMs ?? 3000, error103);
}

/** One byte every `intervalMs` of a registration that never completes: closed by the register deadline. */
export async function slowloris(port: number, options: { intervalMs: number; deadlineMs: number }): Promise<number> {
  const peer = await connect(port, "slowloris");
  const text = encoder.encode(`REGISTER TOSEND ${"s".repeat(32)}`);
  let sent = 0;
  // Load generation, not synchronisation: the attacker's own pace.
  const timer = setInterval(() => {
    if (peer.isClosed || sent >= text.length) return;
    peer.send(text.subarray(sent, sent + 1));
    sent++;
  }, options.intervalMs);
  try {
    await closedBy(peer, options.deadlineMs);
  } finally {
    clearInterval(timer);
  }
  return sent;
}

/**
 * `count` connections that never register, opened in batches, `perAddress`
 * from each attacker address; resolves when the server closed them all.
 */
export async function silentCrowd(port: number, options: { count: number; perAddress: number; deadlineMs: number }): Promise<void> {
  using opened = new DisposableStack();
  const peers: Peer[] = [];
  for (let i = 0; i < options.count; i += options.perAddress) {
    const from = attackerAddress();
    const more = await Promise.all(Array.from({ length: Math.min(options.perAddress, options.count - i) }, (_, j) => Peer.connect(port, `silent${i + j}`, from)));
    peers.push(...more.map((peer) => opened.use(peer)));
  }
  await Promise.all(peers.map((peer) => peer.closes(options.deadlineMs)));
}

/**
 * A registered receiver that never reads, flooded with large messages by a
 * partner: the server must cut it off as a slow consumer and fail every SEND
 * to it with ERROR 102. Returns how many of the flooder's SENDs got ERROR 102 (all, or it throws).
 */
export async function neverReads(port: number, options: { victim: string; flooder: string; messages: number; bodyBytes: number; deadlineMs?: number }): Promise<number> {
  const deadlineMs = options.deadlineMs ?? 5000;
  const from = attackerAddress();
  using victimSend = await Peer.connect(port, `${options.victim}(send)`, from);
  using victimRecv = await Peer.connect(port, `${options.victim}(recv)`, from);
  await register(victimSend, "TOSEND", options.victim);
  await register(victimRecv, "TORECV", options.victim);
  victimRecv.pause();
  using flooder = await registered(port, options.flooder, options.flooder, attackerAddress());
  const body = new Uint8Array(options.bodyBytes).fill(0x78);
  const send = Buffer.concat([encoder.encode(`SEND ${options.victim}\nContent-length: ${body.length}\n\n`), body]);
  for (let i = 0; i < options.messages; i++) flooder.send(send);
  // PROTOCOL.md §3: losing the receiving connection ends the user, so its other connection closes too.
  await victimSend.closes(deadlineMs);
  // Exactly one ERROR 102 per SEND, and nothing else.
  await flooder.receives("ERROR 102 Unable to send\n\n".repeat(options.messages), deadlineMs);
  return options.messages;
}

/** A registered user writing `count` RECEIVED answers it owes nobody: ignored, and the connection stays usable. */
export async function receivedFlood(port: number, options: { name: string; names: readonly string[]; count: number; rng: Rng }): Promise<void> {
  using peer = await connect(port, options.name, options.name);
  const parts: string[] = [];
  for (let i = 0; i < options.count; i++) parts.push(`RECEIVED ${options.rng.pick(options.names)}\n\n`);
  peer.send(parts.join(""));
  // A round trip on the same connection: the server has handled every RECEIVED before this reply.
  peer.send(`REGISTER TOSEND ${options.name}\n\n`);
  await peer.receives(`REGISTERED TOSEND ${options.name}\n\n`, 5000);
}

/** Registration floods: one connection asking for many names, and attempts on names in use. */
export async function registerFlood(port: number, options: { name: string; count: number; taken: readonly string[] }): Promise<void> {
  const from = attackerAddress();
  {
    using peer = await Peer.connect(port, "register-flood", from);
    const wire: string[] = [`REGISTER TOSEND ${options.name}\n\n`];
    const expected: string[] = [`REGISTERED TOSEND ${options.name}\n\n`];
    for (let i = 0; i < options.count; i++) {
      // PROTOCOL.md §3: one connection, one name; the same role again is idempotent.
      if (i % 10 === 0) {
        wire.push(`REGISTER TOSEND ${options.name}\n\n`);
        expected.push(`REGISTERED TOSEND ${options.name}\n\n`);
      } else {
        wire.push(`REGISTER TORECV ${options.name}x${i}\n\n`);
        expected.push("ERROR 104 Username taken\n\n");
      }
    }
    peer.send(wire.join(""));
    await peer.receives(expected.join(""), 5000);
  }
  // Names held by others, on fresh connections: ERROR 104, and the holders keep them.
  using opened = new DisposableStack();
  const grabbers = (await Promise.all(options.taken.map((name) => Peer.connect(port, `grab(${name})`, from)))).map((peer) => opened.use(peer));
  await Promise.all(
    grabbers.map(async (grabber, i) => {
      const name = options.taken[i]!;
      grabber.send(`REGISTER TOSEND ${name}\n\nREGISTER TORECV ${name}\n\n`);
      await grabber.receives("ERROR 104 Username taken\n\nERROR 104 Username taken\n\n");
    }),
  );
}

/**
 * `count` connections that each register one role of a fresh name and never
 * pair, `perAddress` from each attacker address: closed by the pairing deadline.
 */
export async function halfRegistered(port: number, options: { prefix: string; count: number; perAddress: number; deadlineMs: number }): Promise<void> {
  using opened = new DisposableStack();
  let from = "";
  const peers = (
    await Promise.all(
      Array.from({ length: options.count }, (_, i) => {
        if (i % options.perAddress === 0) from = attackerAddress();
        return Peer.connect(port, `half${i}`, from);
      }),
    )
  ).map((peer) => opened.use(peer));
  await Promise.all(
    peers.map(async (peer, i) => {
      await register(peer, "TORECV", `${options.prefix}${i}`);
      await peer.closes(options.deadlineMs);
    }),
  );
}

/**
 * Writes `prefix`, then `total` bytes of `unit` repeated, then `suffix`, one
 * block at a time as the socket drains, so the attacker itself holds one block.
 * What the server writes back is read and dropped. `written` resolves with the
 * bytes written after the prefix once all are written or the server closed the
 * socket; `closed` when the socket closes, by either side.
 */
export async function pour(port: number, options: { prefix: Uint8Array; unit: Uint8Array; total: number; suffix?: Uint8Array; blockBytes?: number }) {
  const count = Math.max(1, Math.floor((options.blockBytes ?? 256 * 1024) / options.unit.length));
  const block = new Uint8Array(count * options.unit.length);
  for (let i = 0; i < count; i++) block.set(options.unit, i * options.unit.length);
  const peer = await Peer.connect(port, "pour", attackerAddress());
  peer.listen({ message() {}, garbled() {}, closed() {} });
  let total = 0;
  const written = (async () => {
    peer.send(options.prefix);
    while (total < options.total && !peer.isClosed) {
      peer.send(block);
      await peer.flushed();
      if (!peer.isClosed) total += block.length;
    }
    if (options.suffix !== undefined) peer.send(options.suffix);
    await peer.flushed();
    return total;
  })();
  return { written, closed: peer.closed, end: () => peer.close(), sent: () => total, isClosed: () => peer.isClosed };
}

/**
 * A pipeline of idempotent REGISTERs behind a SEND its accomplice never
 * answers: every reply is held behind that SEND (docs/protocol.md D14). The
 * server must stop reading the connection once an eighth of
 * --max-queued-bytes is held (D30), neither buffering the pipeline nor
 * dropping the connection. Resolves with how much of `totalBytes` the server
 * let in while `honest` made progress; throws if it let in more than `boundBytes`.
 */
export async function hog(
  port: number,
  options: { name: string; accomplice: string; totalBytes: number; boundBytes: number; honest: () => Promise<void> },
): Promise<number> {
  using accomplice = await connect(port, options.accomplice, options.accomplice);
  const attack = await pour(port, {
    prefix: encoder.encode(`REGISTER TOSEND ${options.name}\n\nREGISTER TORECV ${options.name}\n\nSEND ${options.accomplice}\nContent-length: 1\n\nx`),
    unit: encoder.encode(`REGISTER TOSEND ${options.name}\n\n`),
    total: options.totalBytes,
  });
  try {
    await accomplice.receives(`FORWARD ${options.name}\nContent-length: 1\n\nx`);
    await options.honest();
    const sent = attack.sent();
    if (attack.isClosed()) throw new Error(`${options.name}: dropped; it should only have stopped being read`);
    if (sent > options.boundBytes) throw new Error(`${options.name}: the server read ${sent} bytes of a pipeline whose replies it could not write`);
    return sent;
  } finally {
    attack.end();
  }
}

/**
 * Receivers that lie (PROTOCOL.md §4: no false success, ever): RECEIVED
 * written before any FORWARD, more RECEIVEDs than FORWARDs, and RECEIVED with
 * the wrong name. Only an answer to the very message may give its sender SENT.
 */
export async function liar(port: number, options: { name: string; sender: string; ackTimeoutMs: number }): Promise<void> {
  const deadline = options.ackTimeoutMs + 3000;
  using sender = await registered(port, options.sender, options.sender, attackerAddress());
  using liar = await connect(port, options.name, options.name);
  const forward = (body: string) => `FORWARD ${options.sender}\nContent-length: ${body.length}\n\n${body}`;
  const send = (body: string) => `SEND ${options.name}\nContent-length: ${body.length}\n\n${body}`;
  // Answers nobody asked for, then a round trip so the server has handled them all.
  liar.send(`RECEIVED ${options.sender}\n\n`.repeat(500) + `REGISTER TOSEND ${options.name}\n\n`);
  await liar.receives(`REGISTERED TOSEND ${options.name}\n\n`);
  // One real FORWARD, answered three times: one SENT, and the extra answers are ignored.
  sender.send(send("one"));
  await liar.receives(forward("one"));
  liar.send(`RECEIVED ${options.sender}\n\n`.repeat(3) + `REGISTER TOSEND ${options.name}\n\n`);
  await liar.receives(`REGISTERED TOSEND ${options.name}\n\n`);
  await sender.receives(`SENT ${options.name}\n\n`);
  // The wrong name fails that delivery.
  sender.send(send("two"));
  await liar.receives(forward("two"));
  liar.send(`RECEIVED someoneelse\n\n`);
  await sender.receives("ERROR 102 Unable to send\n\n");
  // No answer at all: ERROR 102 at the ack deadline, never SENT, and the liar is closed as dead.
  sender.send(send("three"));
  await liar.receives(forward("three"));
  await sender.receives("ERROR 102 Unable to send\n\n", deadline);
  await liar.closes(deadline);
}

/**
 * The victim of floods: a user on one connection that answers every FORWARD it
 * reads, reading at most pace() bytes a second (its socket paused in between:
 * its own pace, not synchronisation). `got` holds the sender of each FORWARD read.
 */
export async function slowReader(port: number, name: string, from = attackerAddress()) {
  const peer = await registered(port, name, name, from);
  const changes = new Changes();
  const got: string[] = [];
  let bytes = 0;
  let pace = { rate: 0, at: 0, bytes: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = (): void => {
    clearTimeout(timer);
    const aheadMs = pace.rate === 0 ? Infinity : ((bytes - pace.bytes) / pace.rate) * 1000 - (performance.now() - pace.at);
    if (aheadMs <= 0 || peer.isClosed) return peer.resume();
    peer.pause();
    if (aheadMs < Infinity) timer = setTimeout(next, aheadMs);
  };
  peer.pause();
  peer.listen({
    message({ verb, arg, body }) {
      if (verb === "FORWARD") got.push(arg);
      if (verb === "FORWARD") peer.send(`RECEIVED ${arg}\n\n`);
      bytes += body.length + arg.length + 32;
      next();
      changes.changed();
    },
    garbled: () => peer.close(),
    closed: () => changes.changed(),
  });
  return {
    peer,
    got,
    /** Reads `rate` bytes a second from now on: Infinity as fast as it can, 0 nothing. */
    pace(rate: number): void {
      pace = { rate, at: performance.now(), bytes };
      next();
    },
    /** Waits until it has read `count` FORWARDs in all; throws if the server closed it first. */
    async until(count: number, deadlineMs = 10_000): Promise<void> {
      await changes.until(() => got.length >= count || peer.isClosed, deadlineMs, () => `${peer.label}: ${got.length} of ${count} FORWARDs`);
      if (got.length < count) throw new Error(`${peer.label}: closed by the server after ${got.length} of ${count} FORWARDs`);
    },
    [Symbol.dispose]: () => (clearTimeout(timer), peer.close()),
  };
}
