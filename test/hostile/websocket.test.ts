// The trust rules over WebSocket (docs/protocol.md §6, D44-D48), each beside
// the honest group chatting over TCP and WebSocket at once: oversize messages
// (1009), half messages and many messages in one WebSocket message (ERROR 103,
// 1002) and a flood of connections from one address (ERROR 106, 1013); a
// reader that never reads is websocket-reader.test.ts. Each reaction falls on
// the attacker alone: finish() proves the honest users lost nothing.

import { describe, expect, test } from "bun:test";
import { Limits } from "../../src/protocol/limits.ts";
import { openArena } from "../support/arena.ts";
import { attackerAddress } from "../support/attackers.ts";
import { Changes } from "../support/changes.ts";
import { Peer, register, registered, type Bytes } from "../support/peer.ts";
import { eventually } from "../support/server.ts";

const encoder = new TextEncoder();
const error103 = "ERROR 103 Header incomplete";

/**
 * A WebSocket client that registers `name` (if given) and answers every
 * FORWARD, then sends `message` as one WebSocket message; resolves once the
 * server closed it, with the close code and what the server said. A browser
 * cannot pick its source address, so these come from 127.0.0.1 like the
 * honest WebSocket users, and share their per-address caps.
 */
async function misframer(url: string, label: string, name: string | undefined, message: Bytes) {
  const peer = await Peer.connectWebSocket(url, label);
  if (name !== undefined) {
    await register(peer, "TOSEND", name);
    await register(peer, "TORECV", name);
  }
  const heard: string[] = [];
  peer.listen({
    message({ verb, arg }) {
      heard.push(`${verb} ${arg}`);
      if (verb === "FORWARD") peer.send(`RECEIVED ${arg}\n\n`);
    },
    garbled: (detail) => heard.push(`garbled: ${detail}`),
    closed() {},
  });
  peer.sendWebSocketMessage(message);
  await peer.closes(3000);
  return { label, code: peer.closeCode, heard };
}

/**
 * A TCP user from an attacker address that the attacks aim at, answering every
 * FORWARD (the honest broadcasts reach it too). check() sends it a message of
 * its own and waits for the SENT: whatever was forwarded to it before is in by
 * then, and must all come from the honest users.
 */
async function witness(port: number, honest: readonly string[]) {
  const peer = await registered(port, "witness", "witness", attackerAddress());
  const changes = new Changes();
  const senders: string[] = [];
  const replies: string[] = [];
  peer.listen({
    message({ verb, arg }) {
      if (verb === "FORWARD") peer.send(`RECEIVED ${arg}\n\n`);
      (verb === "FORWARD" ? senders : replies).push(arg);
      changes.changed();
    },
    garbled: (detail) => replies.push(`garbled: ${detail}`),
    closed: () => changes.changed(),
  });
  return {
    async check(): Promise<void> {
      peer.send("SEND witness\nContent-length: 4\n\nping");
      await changes.until(() => replies.length > 0 || peer.isClosed, 3000, () => "waiting for the witness's SENT");
      expect(replies).toEqual(["witness"]);
      expect(senders.filter((sender) => !honest.includes(sender))).toEqual(["witness"]);
    },
    [Symbol.dispose]: () => peer.close(),
  };
}

describe("hostile WebSocket clients", () => {
  test("messages over the header + body limits close their senders with 1009, and only them", async () => {
    await using arena = await openArena({ http: true });
    await arena.group.progress(20);
    using target = await witness(arena.port, arena.group.members.map((member) => member.name));
    const url = `ws://127.0.0.1:${arena.server.httpPort}/ws`;
    const over = Limits.maxHeaderBytes.default + Limits.maxBodyBytes.default;
    const oversize = `SEND witness\nContent-length: ${over}\n\n${"x".repeat(over)}`;
    // Registered or not, text or binary.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => misframer(url, `oversize${i}`, i % 2 === 0 ? `big${i}` : undefined, i % 4 < 2 ? oversize : encoder.encode(oversize))),
    );
    for (const { label, code, heard } of results) {
      expect({ label, code }).toEqual({ label, code: 1009 });
      // D45: the close is this transport's ERROR 103; the message was never read.
      expect(heard.filter((line) => !line.startsWith("FORWARD "))).toEqual([]);
    }
    await target.check();
    await arena.group.progress(100);
    await eventually(() => arena.server.connections === arena.honestConnections() + 1, "only the honest users and the witness are left");
    await arena.finish();
  }, 20_000);

  test("half a message, or more than one, in one WebSocket message gets ERROR 103 and 1002, for the sender alone", async () => {
    await using arena = await openArena({ http: true });
    await arena.group.progress(20);
    using target = await witness(arena.port, arena.group.members.map((member) => member.name));
    const url = `ws://127.0.0.1:${arena.server.httpPort}/ws`;
    const send = (body: string) => `SEND witness\nContent-length: ${body.length}\n\n${body}`;
    const cases = [
      ["half a body", `SEND witness\nContent-length: 10\n\nhalf`],
      ["half a header", "SEND witness\nContent-length: 4\n"],
      ["nothing but empty lines", "\n\n\n"],
      ["two SENDs", send("one") + send("two")],
      ["a hundred SENDs", Array.from({ length: 100 }, (_, i) => send(`n${i}`)).join("")],
      ["a SEND and half another", send("whole") + "SEND witness\nContent-len"],
      ["two REGISTERs", "REGISTER TOSEND twice\n\nREGISTER TORECV twice\n\n"],
      ["a RECEIVED and a SEND", "RECEIVED witness\n\n" + send("sneaky")],
    ] as const;
    const results = await Promise.all(
      cases.flatMap(([what, message], i) => [
        misframer(url, `${what} (anonymous)`, undefined, message),
        misframer(url, `${what} (registered, binary)`, `framer${i}`, encoder.encode(message)),
      ]),
    );
    for (const { label, code, heard } of results) {
      expect({ label, code }).toEqual({ label, code: 1002 });
      // The server's last words, after any FORWARD it owed: ERROR 103, once.
      expect({ label, heard: heard.filter((line) => !line.startsWith("FORWARD ")) }).toEqual({ label, heard: [error103] });
    }
    // Not one of those SENDs was delivered.
    await target.check();
    await arena.group.progress(100);
    await eventually(() => arena.server.connections === arena.honestConnections() + 1, "only the honest users and the witness are left");
    await arena.finish();
  }, 20_000);

  test("a flood of WebSocket connections from one address meets the per-address cap with 1013, and the honest group goes on", async () => {
    // The honest group holds 9 connections from 127.0.0.1 (browsers cannot choose their source address); the cap there is 16.
    await using arena = await openArena({ http: true, limits: { maxConnectionsPerAddress: 16 }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    const url = `ws://127.0.0.1:${arena.server.httpPort}/ws`;
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => Peer.connectWebSocket(url, `flood${i}`)));
    // Refused at once, or, admitted, closed at the arena's register deadline: every one ends.
    await Promise.all(flood.map((peer) => peer.closed));
    const refused = flood.filter((peer) => peer.closeCode === 1013);
    expect(refused).toHaveLength(40 - (16 - arena.honestConnections()));
    for (const peer of refused) expect(new TextDecoder().decode(peer.unread)).toBe("ERROR 106 Server busy\n\n");
    await arena.group.progress(100);
    await arena.finish();
  }, 20_000);
});
