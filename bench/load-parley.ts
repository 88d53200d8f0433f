// The generator's parley users: over TCP two connections each, one per role,
// over WebSocket one with both roles (docs/protocol.md D44); read with the
// project's Framer and written through the project's Outbox.

import { ascii } from "../src/protocol/ascii.ts";
import { Framer } from "../src/protocol/framer.ts";
import { Role, decodeServerHead, encodeReceived, encodeRegister, encodeSend, type HeadDecoder, type ServerHead } from "../src/protocol/messages.ts";
import type { Client } from "./connection.ts";
import { Pump, attack, die, pool, repeated, type GeneratorConfig } from "./load.ts";
import { connectFor } from "./ws-connection.ts";

type ParleyClient = Client & { onFrame: (head: ServerHead, body: Uint8Array) => void };

/** decodeServerHead, with the header blocks a connection expects decoded once and recognised by their bytes. */
function cachedDecoder(known: Uint8Array[]): HeadDecoder<ServerHead> {
  const entries = known.map((block) => ({ block, head: decodeServerHead(block) }));
  return (bytes, start = 0, end = bytes.length) => {
    next: for (const entry of entries) {
      const expected = entry.block;
      if (expected.length !== end - start) continue;
      for (let i = 0; i < expected.length; i++) if (expected[i] !== bytes[start + i]) continue next;
      return entry.head;
    }
    return decodeServerHead(bytes, start, end);
  };
}

/** What a connection's framer needs to know: the generator's config, or the attacker's. */
type FramerConfig = Pick<GeneratorConfig, "port" | "body" | "decoder" | "tls" | "websocket">;

function framerFor(config: FramerConfig, known: Uint8Array[]): Framer<ServerHead> {
  const limits = { maxHeaderBytes: 8192, maxBodyBytes: Math.max(65536, config.body) };
  return new Framer(limits, config.decoder === "cached" ? cachedDecoder(known) : decodeServerHead);
}

export async function connectParley(config: FramerConfig, known: Uint8Array[], localAddress?: string): Promise<ParleyClient> {
  const client = (await connectFor(config, localAddress)) as ParleyClient;
  const framer = framerFor(config, known);
  const sink = (head: ServerHead, body: Uint8Array) => client.onFrame(head, body);
  client.onFrame = (head) => die(`unexpected ${head.verb}`);
  client.onBytes = (chunk) => {
    const error = framer.push(chunk, sink);
    if (error !== undefined) die(`unparseable reply from the server: ${error.message}`);
  };
  return client;
}

/** `password`: sent in a Password field (docs/protocol.md D39), for a name with an account. */
export function register(client: ParleyClient, role: Role, name: string, password?: Uint8Array): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  client.onFrame = (head) => {
    if (head.verb !== "REGISTERED" || head.role !== role || head.name !== name) die(`REGISTER ${role} ${name} got ${head.verb}`);
    client.onFrame = (late) => die(`unexpected ${late.verb}`);
    resolve();
  };
  client.write(client.frame(encodeRegister(role, name, password)));
  return promise;
}

type ParleyUser = { name: string; sending: ParleyClient; receiving: ParleyClient };

/**
 * Over TCP two connections, one role each (PROTOCOL.md §3); over WebSocket
 * one, both roles on it, as the web client has. `known` are the header blocks
 * its receiving side will see.
 */
export async function registerUser(config: GeneratorConfig, name: string, known: { sending: Uint8Array[]; receiving: Uint8Array[] }): Promise<ParleyUser> {
  const password = config.password === undefined ? undefined : Buffer.from(config.password);
  if (config.websocket) {
    const client = await connectParley(config, [...known.sending, ...known.receiving]);
    await register(client, Role.ToSend, name, password);
    await register(client, Role.ToRecv, name, password);
    return { name, sending: client, receiving: client };
  }
  const [sending, receiving] = await Promise.all([connectParley(config, known.sending), connectParley(config, known.receiving)]);
  // Both roles at once, so that the server checks the password once for the two (docs/protocol.md D42).
  await Promise.all([register(sending, Role.ToSend, name, password), register(receiving, Role.ToRecv, name, password)]);
  return { name, sending, receiving };
}

/**
 * The receiving side of a load user: answers every FORWARD from `from` with
 * RECEIVED, all of a chunk's answers in one write (as the raw receivers do).
 * Its sender has at most `inflight` SENDs out, so one block of that many
 * answers covers a chunk; the loop is for a server that sends more.
 */
function answerForwards(config: GeneratorConfig, user: ParleyUser, from: string): void {
  const received = user.receiving.frame(encodeReceived(from));
  const block = repeated(received, config.inflight);
  let forwards = 0;
  user.receiving.onFrame = (head) => {
    if (head.verb !== "FORWARD" || head.from !== from) die(`receiver ${user.name} got ${head.verb}`);
    forwards++;
  };
  const parse = user.receiving.onBytes;
  user.receiving.onBytes = (chunk) => {
    parse(chunk);
    while (forwards > 0) {
      const answers = Math.min(forwards, config.inflight);
      user.receiving.writePrefix(block, answers * received.length);
      forwards -= answers;
    }
  };
}

/**
 * The attack scenario's victim: answers each FORWARD with RECEIVED and that
 * FORWARD's own sender, its pair's or the attacker's, as any honest client
 * would, so the attacker's deliveries succeed; a chunk's answers in one write.
 */
function answerEach(user: ParleyUser, senders: string[]): void {
  const answers = new Map(senders.map((name) => [name, user.receiving.frame(encodeReceived(name))]));
  const pending: Uint8Array[] = [];
  user.receiving.onFrame = (head) => {
    const answer = head.verb === "FORWARD" ? answers.get(head.from) : undefined;
    if (answer === undefined) die(`receiver ${user.name} got ${head.verb}`);
    pending.push(answer);
  };
  const parse = user.receiving.onBytes;
  user.receiving.onBytes = (chunk) => {
    parse(chunk);
    if (pending.length === 0) return;
    user.receiving.write(Buffer.concat(pending));
    pending.length = 0;
  };
}

/** The sending side: a pump of SENDs to `to`, completed by SENT (or an ERROR, counted) once per chunk, then refilled in one write. */
function pumpSends(config: GeneratorConfig, user: ParleyUser, to: string): Pump {
  const send = user.sending.frame(encodeSend(to, new Uint8Array(config.body).fill(0x61)));
  const sends = repeated(send, config.inflight);
  const pump = new Pump(config.inflight, (count) => user.sending.writePrefix(sends, count * send.length));
  let sent = 0;
  let failed = 0;
  user.sending.onFrame = (head) => {
    if (head.verb === "SENT" && head.to === to) sent++;
    else if (head.verb === "ERROR") failed++;
    else die(`sender ${user.name} got ${head.verb}`);
  };
  const parse = user.sending.onBytes;
  user.sending.onBytes = (chunk) => {
    parse(chunk);
    pump.complete(sent, failed);
    sent = failed = 0;
    pump.fill();
  };
  return pump;
}

/** Receiver i's config: on `receiverPorts[i % length]` when the receivers are spread over a cluster's nodes. */
function receiverConfig(config: GeneratorConfig, i: number): GeneratorConfig {
  const ports = config.receiverPorts;
  return ports === undefined ? config : { ...config, port: ports[i % ports.length]! };
}

export async function setupParley(config: GeneratorConfig): Promise<Pump[]> {
  const forwardFrom = (from: string, body = config.body) => ascii(`FORWARD ${from}\nContent-length: ${body}\n\n`);
  if (config.kind === "broadcast") {
    const sender = "b0";
    await pool(config.receivers, config.concurrency, async (i) => {
      answerForwards(config, await registerUser(receiverConfig(config, i), `r${i}`, { sending: [], receiving: [forwardFrom(sender)] }), sender);
    });
    const user = await registerUser(config, sender, { sending: [ascii("SENT ALL\n\n")], receiving: [] });
    return [pumpSends(config, user, "ALL")];
  }
  const pumps: Pump[] = [];
  await pool(config.pairs, config.concurrency, async (i) => {
    const [from, to] = [`s${i}`, `r${i}`];
    const victim = config.answersAttacker && to === attack.victim;
    const [sender, receiver] = await Promise.all([
      registerUser(config, from, { sending: [ascii(`SENT ${to}\n\n`)], receiving: [] }),
      registerUser(receiverConfig(config, i), to, { sending: [], receiving: [forwardFrom(from), ...(victim ? [forwardFrom(attack.name, attack.body)] : [])] }),
    ]);
    if (victim) answerEach(receiver, [from, attack.name]);
    else answerForwards(config, receiver, from);
    pumps.push(pumpSends(config, sender, to));
  });
  return pumps;
}
