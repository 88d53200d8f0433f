// PROTOCOL.md §3 (and docs/protocol.md D9, D12-D14) over real sockets: each
// rule of registration, one test each. Delivery itself is covered by the
// scenario transcripts; here a SEND is only the proof that a user is (or is
// not) registered.

import { describe, expect, test } from "bun:test";
import { eventually, openCast, proxyFrom, type Member } from "../support/server.ts";
import { register, type Peer } from "../support/peer.ts";

const ERROR_100 = "ERROR 100 Malformed username\n\n";
const ERROR_101 = "ERROR 101 No user registered\n\n";
const ERROR_102 = "ERROR 102 Unable to send\n\n";
const ERROR_104 = "ERROR 104 Username taken\n\n";

/** Proves `member` is registered: a message to themselves goes round the relay. */
async function roundTrip(member: Member, body = "ping"): Promise<void> {
  member.sender.send(`SEND ${member.name}\nContent-length: ${body.length}\n\n${body}`);
  await member.receiver.receives(`FORWARD ${member.name}\nContent-length: ${body.length}\n\n${body}`);
  member.receiver.send(`RECEIVED ${member.name}\n\n`);
  await member.sender.receives(`SENT ${member.name}\n\n`);
}

/** Proves `name` is not registered: a SEND to it from `from` fails at once. */
async function isNotRegistered(from: Member, name: string): Promise<void> {
  from.sender.send(`SEND ${name}\nContent-length: 1\n\nx`);
  await from.sender.receives(ERROR_102);
}

describe("registration", () => {
  test("registers a user whose TOSEND connection registers first", async () => {
    await using cast = openCast();
    const sender = await cast.connect("alice(send)");
    const receiver = await cast.connect("alice(recv)");
    await register(sender, "TOSEND", "alice");
    await register(receiver, "TORECV", "alice");
    await roundTrip({ name: "alice", sender, receiver });
    cast.expectNothingUnread();
  });

  test("registers a user whose TORECV connection registers first", async () => {
    await using cast = openCast();
    const sender = await cast.connect("alice(send)");
    const receiver = await cast.connect("alice(recv)");
    await register(receiver, "TORECV", "alice");
    await register(sender, "TOSEND", "alice");
    await roundTrip({ name: "alice", sender, receiver });
    cast.expectNothingUnread();
  });

  test("registers both roles on one connection and relays SENDs, replies and FORWARDs over it", async () => {
    await using cast = openCast();
    const alice = await cast.join("alice", "single-connection");
    const bob = await cast.join("bob");
    alice.sender.send("SEND bob\nContent-length: 2\n\nhi");
    await bob.receiver.receives("FORWARD alice\nContent-length: 2\n\nhi");
    bob.sender.send("SEND alice\nContent-length: 2\n\nyo");
    await alice.receiver.receives("FORWARD bob\nContent-length: 2\n\nyo");
    bob.receiver.send("RECEIVED alice\n\n");
    await alice.sender.receives("SENT bob\n\n");
    alice.receiver.send("RECEIVED bob\n\n");
    await bob.sender.receives("SENT alice\n\n");
    cast.expectNothingUnread();
  });

  describe("answers ERROR 100 and keeps the connection open for a malformed name", () => {
    const rows: [string, string][] = [
      ["a name with a hyphen", "REGISTER TOSEND al-ice\n\n"],
      ["a name with a space", "REGISTER TOSEND al ice\n\n"],
      ["a name with a non-ASCII letter", "REGISTER TOSEND alicé\n\n"],
      ["a name of 33 characters", `REGISTER TOSEND ${"a".repeat(33)}\n\n`],
      ["an empty name", "REGISTER TOSEND\n\n"],
      ["an empty name after the role's space", "REGISTER TORECV \n\n"],
      ["the reserved name ALL", "REGISTER TORECV ALL\n\n"],
    ];
    for (const [what, wire] of rows) {
      test(`refuses ${what}`, async () => {
        await using cast = openCast();
        const peer = await cast.connect();
        peer.send(wire);
        await peer.receives(ERROR_100);
        // Nothing was claimed: the connection may still register, under any name.
        await register(peer, "TOSEND", "alice");
        cast.expectNothingUnread();
      });
    }
  });

  test("accepts a name of 32 letters and digits, and refuses ALL in any case (docs/protocol.md §6)", async () => {
    await using cast = openCast();
    const long = "A1".repeat(16);
    await register(await cast.connect(), "TOSEND", long);
    const peer = await cast.connect();
    for (const name of ["all", "All", "aLL"]) {
      peer.send(`REGISTER TOSEND ${name}\n\n`);
      await peer.receives("ERROR 100 Malformed username\n\n");
    }
    cast.expectNothingUnread();
  });

  test("refuses a name that differs from a registered one only in case, and answers in the registered spelling", async () => {
    await using cast = openCast();
    const alice = await cast.connect();
    await register(alice, "TOSEND", "Alice");
    const other = await cast.connect();
    other.send("REGISTER TORECV aLiCe\n\n");
    // The pairing guard passes (same address), so the second role joins Alice, in her spelling.
    await other.receives("REGISTERED TORECV Alice\n\n");
    const third = await cast.connect();
    third.send("REGISTER TOSEND ALICE\n\n");
    await third.receives("ERROR 104 Username taken\n\n");
    alice.send("REGISTER TOSEND alice\n\n");
    await alice.receives("REGISTERED TOSEND Alice\n\n");
    cast.expectNothingUnread();
  });

  describe("ERROR 101 before the user holds both roles", () => {
    test("answers a SEND on an unregistered connection after reading its whole body, so a body that looks like REGISTER registers nothing", async () => {
      await using cast = openCast();
      const peer = await cast.connect();
      const body = "REGISTER TOSEND mallory\n\n";
      peer.send(`SEND bob\nContent-length: ${body.length}\n\n${body}`);
      await peer.receives(ERROR_101);
      // In step: the next message is read as a message, and the same connection may take another name.
      await register(peer, "TOSEND", "alice");
      // mallory was never claimed.
      await register(await cast.connect("mallory"), "TOSEND", "mallory");
      cast.expectNothingUnread();
    });

    test("answers a SEND from a connection whose user holds only TOSEND, and keeps it open", async () => {
      await using cast = openCast();
      const sender = await cast.connect("alice(send)");
      await register(sender, "TOSEND", "alice");
      sender.send("SEND alice\nContent-length: 3\n\nabc");
      await sender.receives(ERROR_101);
      // Completing the registration afterwards works on the same connection.
      const receiver = await cast.connect("alice(recv)");
      await register(receiver, "TORECV", "alice");
      await roundTrip({ name: "alice", sender, receiver });
      cast.expectNothingUnread();
    });

    test("answers RECEIVED and ERROR on an unregistered connection", async () => {
      await using cast = openCast();
      const peer = await cast.connect();
      peer.send("RECEIVED alice\n\nERROR 103 Header incomplete\n\n");
      await peer.receives(ERROR_101 + ERROR_101);
      cast.expectNothingUnread();
    });

    test("answers RECEIVED on a connection whose user holds only TORECV", async () => {
      await using cast = openCast();
      const receiver = await cast.connect("alice(recv)");
      await register(receiver, "TORECV", "alice");
      receiver.send("RECEIVED bob\n\n");
      await receiver.receives(ERROR_101);
      cast.expectNothingUnread();
    });
  });

  test("answers ERROR 101 to a SEND on the receiving-only connection of a registered user, reading past its body", async () => {
    await using cast = openCast();
    const alice = await cast.join("alice");
    const body = "RECEIVED alice\n\n";
    alice.receiver.send(`SEND alice\nContent-length: ${body.length}\n\n${body}`);
    await alice.receiver.receives(ERROR_101);
    await roundTrip(alice);
    cast.expectNothingUnread();
  });

  test("ignores RECEIVED and ERROR on the sending-only connection of a registered user", async () => {
    await using cast = openCast();
    const alice = await cast.join("alice");
    const bob = await cast.join("bob");
    alice.sender.send("SEND bob\nContent-length: 1\n\nx");
    await bob.receiver.receives("FORWARD alice\nContent-length: 1\n\nx");
    // Neither answer may settle alice's SEND, nor be answered: the SEND after them is the first reply.
    bob.sender.send("RECEIVED alice\n\nERROR 103 Header incomplete\n\nSEND nobody\nContent-length: 0\n\n");
    await bob.sender.receives(ERROR_102);
    // Had the RECEIVED above counted, alice would already hold SENT bob.
    bob.receiver.send("ERROR 103 Header incomplete\n\n");
    await alice.sender.receives(ERROR_102);
    cast.expectNothingUnread();
  });

  describe("ERROR 104", () => {
    test("refuses a role held by another live connection, and leaves the holder registered", async () => {
      await using cast = openCast();
      const alice = await cast.join("alice");
      const sendIntruder = await cast.connect("intruder(send)");
      sendIntruder.send("REGISTER TOSEND alice\n\n");
      await sendIntruder.receives(ERROR_104);
      const recvIntruder = await cast.connect("intruder(recv)");
      recvIntruder.send("REGISTER TORECV alice\n\n");
      await recvIntruder.receives(ERROR_104);
      await roundTrip(alice);
      cast.expectNothingUnread();
    });

    test("refuses the role of a half-registered user to a second connection", async () => {
      await using cast = openCast();
      const first = await cast.connect("first");
      await register(first, "TORECV", "alice");
      const second = await cast.connect("second");
      second.send("REGISTER TORECV alice\n\n");
      await second.receives(ERROR_104);
      cast.expectNothingUnread();
    });

    test("refuses a connection that holds a role under one name and asks for another name", async () => {
      await using cast = openCast();
      const peer = await cast.connect();
      await register(peer, "TOSEND", "alice");
      peer.send("REGISTER TORECV bob\n\nREGISTER TOSEND bob\n\n");
      await peer.receives(ERROR_104 + ERROR_104);
      // bob was never claimed.
      await register(await cast.connect("bob"), "TOSEND", "bob");
      cast.expectNothingUnread();
    });

    test("lets a connection refused one name register another", async () => {
      await using cast = openCast();
      await cast.join("alice");
      const peer = await cast.connect();
      peer.send("REGISTER TOSEND alice\n\n");
      await peer.receives(ERROR_104);
      await register(peer, "TOSEND", "bob");
      cast.expectNothingUnread();
    });

    describe("pairing guard: the second role must come from the first role's IP address", () => {
      // Peers reach the server from 127.0.0.2 through a loopback proxy (see proxyFrom in test/support/server.ts).
      test("refuses TORECV from 127.0.0.2 after TOSEND from 127.0.0.1", async () => {
        await using cast = openCast();
        await using proxy = await proxyFrom("127.0.0.2", cast.port);
        await register(await cast.connect("alice(send)"), "TOSEND", "alice");
        const remote = await cast.connect("grabber@127.0.0.2", proxy.port);
        remote.send("REGISTER TORECV alice\n\n");
        await remote.receives(ERROR_104);
        // The right address still completes the user.
        await register(await cast.connect("alice(recv)"), "TORECV", "alice");
        cast.expectNothingUnread();
      });

      test("refuses TOSEND from 127.0.0.1 after TORECV from 127.0.0.2", async () => {
        await using cast = openCast();
        await using proxy = await proxyFrom("127.0.0.2", cast.port);
        await register(await cast.connect("alice(recv)@127.0.0.2", proxy.port), "TORECV", "alice");
        const local = await cast.connect("grabber");
        local.send("REGISTER TOSEND alice\n\n");
        await local.receives(ERROR_104);
        cast.expectNothingUnread();
      });

      test("accepts both roles from 127.0.0.2 through the same proxy", async () => {
        await using cast = openCast();
        await using proxy = await proxyFrom("127.0.0.2", cast.port);
        const sender = await cast.connect("alice(send)@127.0.0.2", proxy.port);
        const receiver = await cast.connect("alice(recv)@127.0.0.2", proxy.port);
        await register(sender, "TOSEND", "alice");
        await register(receiver, "TORECV", "alice");
        await roundTrip({ name: "alice", sender, receiver });
        cast.expectNothingUnread();
      });
    });
  });

  test("answers REGISTERED again to the same role and name on the same connection", async () => {
    await using cast = openCast();
    const sender = await cast.connect("alice(send)");
    await register(sender, "TOSEND", "alice");
    await register(sender, "TOSEND", "alice");
    const receiver = await cast.connect("alice(recv)");
    await register(receiver, "TORECV", "alice");
    // Also once registered.
    await register(receiver, "TORECV", "alice");
    await roundTrip({ name: "alice", sender, receiver });
    cast.expectNothingUnread();
  });

  test("reads and ignores a body on REGISTER, so a body that looks like REGISTER registers nothing", async () => {
    await using cast = openCast();
    const peer = await cast.connect();
    const body = "REGISTER TORECV alice\n\n";
    peer.send(`REGISTER TOSEND alice\nContent-length: ${body.length}\n\n${body}`);
    await peer.receives("REGISTERED TOSEND alice\n\n");
    // TORECV alice is still free for a second connection.
    await register(await cast.connect("alice(recv)"), "TORECV", "alice");
    cast.expectNothingUnread();
  });

  test("answers a re-REGISTER after a SEND still in flight only after that SEND's reply (D14)", async () => {
    await using cast = openCast();
    const alice = await cast.join("alice");
    const bob = await cast.join("bob");
    alice.sender.send("SEND bob\nContent-length: 1\n\nxREGISTER TOSEND alice\n\n");
    await bob.receiver.receives("FORWARD alice\nContent-length: 1\n\nx");
    bob.receiver.send("RECEIVED alice\n\n");
    await alice.sender.receives("SENT bob\n\nREGISTERED TOSEND alice\n\n");
    cast.expectNothingUnread();
  });

  describe("losing either connection ends the registration", () => {
    const sides = [
      ["sending", (m: Member) => [m.sender, m.receiver]],
      ["receiving", (m: Member) => [m.receiver, m.sender]],
    ] as const;
    for (const [side, pick] of sides) {
      test(`closes the other connection when the ${side} one closes, and frees the name`, async () => {
        await using cast = openCast();
        const bob = await cast.join("bob");
        const alice = await cast.join("alice");
        const [lost, other] = pick(alice) as [Peer, Peer];
        lost.close();
        await other.closes();
        await isNotRegistered(bob, "alice");
        expect(cast.server.users).toBe(1);
        const again = await cast.join("alice");
        await roundTrip(again);
        cast.expectNothingUnread();
      });
    }

    test("frees the name when a single-connection user closes", async () => {
      await using cast = openCast();
      const bob = await cast.join("bob");
      const alice = await cast.join("alice", "single-connection");
      alice.sender.close();
      await eventually(() => cast.server.users === 1, "the server lets alice go");
      await isNotRegistered(bob, "alice");
      await roundTrip(await cast.join("alice"));
      cast.expectNothingUnread();
    });

    test("frees the name when a half-registered user's connection closes", async () => {
      await using cast = openCast();
      const half = await cast.connect("alice(half)");
      await register(half, "TOSEND", "alice");
      half.close();
      await eventually(() => cast.server.users === 0, "the server lets alice go");
      await roundTrip(await cast.join("alice"));
      cast.expectNothingUnread();
    });
  });

  describe("deadlines (registerTimeoutMs)", () => {
    const limits = { registerTimeoutMs: 150 };

    test("closes a connection that registers no role in time", async () => {
      await using cast = openCast(limits);
      const started = performance.now();
      const idle = await cast.connect("idle");
      await idle.closes(2000);
      expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    });

    test("closes a connection answered only with errors: an ERROR 101 or 104 is no registration", async () => {
      await using cast = openCast(limits);
      await cast.join("alice");
      const peer = await cast.connect();
      peer.send("REGISTER TOSEND alice\n\n");
      await peer.receives(ERROR_104);
      peer.send("SEND alice\nContent-length: 0\n\n");
      await peer.receives(ERROR_101);
      await peer.closes(2000);
    });

    test("closes a half-registered user's connections when the second role does not come in time, and frees the name", async () => {
      await using cast = openCast(limits);
      const sender = await cast.connect("alice(send)");
      const receiver = await cast.connect("alice(recv)");
      await register(sender, "TOSEND", "alice");
      await sender.closes(2000);
      await receiver.closes(2000);
      expect(cast.server.users).toBe(0);
      await register(await cast.connect("alice again"), "TOSEND", "alice");
    });

    test("keeps a user who registered both roles in time past both deadlines", async () => {
      await using cast = openCast(limits);
      const alice = await cast.join("alice");
      // A connection opened after alice registered, so its deadline passes after hers.
      const canary = await cast.connect("canary");
      await canary.closes(2000);
      expect(alice.sender.isClosed || alice.receiver.isClosed).toBe(false);
      await roundTrip(alice);
      cast.expectNothingUnread();
    });
  });
});
