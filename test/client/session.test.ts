// The client session against a real server in this process (and, for what
// parley's server never does, a tiny fake one), over real sockets.

import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { formatReceived } from "../../src/client/render.ts";
import type { SessionEvent } from "../../src/client/session-events.ts";
import { Session } from "../../src/client/session.ts";
import type { SessionOptions } from "../../src/client/session-options.ts";
import { Framer } from "../../src/protocol/framer.ts";
import { defaultLimits } from "../../src/protocol/limits.ts";
import { decodeClientHead, type ClientHead } from "../../src/protocol/messages.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { Peer } from "../support/peer.ts";
import { eventually, testServer } from "../support/server.ts";
import { Changes } from "../support/changes.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const deadlineMs = 3000;

type EventOf<T extends SessionEvent["type"]> = Extract<SessionEvent, { type: T }>;

/** Collects a session's events; tests wait for the next one of a type, with a deadline. */
class Events {
  readonly seen: SessionEvent[] = [];
  #consumed = new Set<SessionEvent>();
  readonly #changes = new Changes();

  readonly push = (event: SessionEvent): void => {
    this.seen.push(event);
    this.#changes.changed();
  };

  async next<T extends SessionEvent["type"]>(type: T, ms = deadlineMs): Promise<EventOf<T>> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.seen.find((event) => event.type === type && !this.#consumed.has(event));
      if (found !== undefined) {
        this.#consumed.add(found);
        return found as EventOf<T>;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for a ${type} event; seen: ${JSON.stringify(this.seen.map((event) => event.type))}`);
      await this.#changes.next(left);
    }
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function server(limits: Parameters<typeof testServer>[0] = {}): RunningServer {
  const running = testServer(limits);
  cleanups.push(() => running.stop());
  return running;
}

async function connected(port: number, user: string, options: Partial<SessionOptions> = {}): Promise<{ session: Session; events: Events }> {
  const events = new Events();
  const session = new Session({ host: "127.0.0.1", port, user, onEvent: events.push, ...options });
  cleanups.push(() => session.close());
  const error = await session.connect();
  if (error !== undefined) throw new Error(`${user} could not connect: ${JSON.stringify(error)}`);
  expect(await events.next("connected")).toEqual({ type: "connected", reconnected: false });
  return { session, events };
}

/** A raw peer registered under `name` on two connections, answering nothing by itself. */
async function rawUser(port: number, name: string): Promise<{ sender: Peer; receiver: Peer }> {
  const sender = await Peer.connect(port, `${name}(send)`);
  const receiver = await Peer.connect(port, `${name}(recv)`);
  cleanups.push(() => sender.close(), () => receiver.close());
  sender.send(`REGISTER TOSEND ${name}\n\n`);
  receiver.send(`REGISTER TORECV ${name}\n\n`);
  await sender.receives(`REGISTERED TOSEND ${name}\n\n`);
  await receiver.receives(`REGISTERED TORECV ${name}\n\n`);
  return { sender, receiver };
}

type FakeData = { framer: Framer<ClientHead>; role?: string };
type FakeSocket = Socket<FakeData>;
type Fake = { readonly port: number; receiver(): FakeSocket; sockets(): FakeSocket[]; answers: Heard };

/** Messages a fake server received, waited for with a deadline. */
class Heard {
  readonly seen: string[] = [];
  readonly #changes = new Changes();

  push(line: string): void {
    this.seen.push(line);
    this.#changes.changed();
  }

  async count(n: number, ms = deadlineMs): Promise<string[]> {
    const deadline = performance.now() + ms;
    while (this.seen.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} messages; have ${JSON.stringify(this.seen)}`);
      await this.#changes.next(left);
    }
    return this.seen;
  }
}

/**
 * A fake server for what parley's server never does (the original table's
 * `SEND <name>` reply, unparseable FORWARDs, hostile sender names, a drop
 * without replies). It registers anyone, records every other message as a
 * line, and hands SENDs to `onSend`.
 */
function fakeServer(
  onSend: (socket: FakeSocket, to: string) => void = () => {},
  // Answers a REGISTER itself when it returns true; by default REGISTERED goes back at once.
  onRegister: (socket: FakeSocket, role: string, name: string) => boolean = () => false,
): Fake {
  const sockets = new Set<FakeSocket>();
  const answers = new Heard();
  const listener = Bun.listen<FakeData>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { framer: new Framer(defaultLimits, decodeClientHead) };
        sockets.add(socket);
      },
      data(socket, chunk) {
        socket.data.framer.push(chunk, (head) => {
          if (head.verb === "REGISTER") {
            socket.data.role = head.role;
            if (!onRegister(socket, head.role, head.name)) socket.write(`REGISTERED ${head.role} ${head.name}\n\n`);
            return;
          }
          answers.push(head.verb === "ERROR" ? `ERROR ${head.code} ${head.text}` : head.verb === "SEND" ? `SEND ${head.to}` : head.verb === "RECEIVED" ? `RECEIVED ${head.from}` : head.verb);
          if (head.verb === "SEND") onSend(socket, head.to);
        });
      },
      close(socket) {
        sockets.delete(socket);
      },
    },
  });
  cleanups.push(() => listener.stop(true));
  return {
    port: listener.port,
    answers,
    sockets: () => [...sockets],
    receiver: () => [...sockets].find((socket) => socket.data.role === "TORECV")!,
  };
}

describe("Session", () => {
  test("answers a FORWARD that arrives before its own registration has finished", async () => {
    // The server counts a user registered once it holds both roles, so a FORWARD
    // can reach the receiving connection before the client has read REGISTERED on
    // the sending one. This fake opens that window on purpose: it answers TORECV
    // with REGISTERED plus a FORWARD at once and holds TOSEND's REGISTERED back a
    // little (a fake's behaviour, not a wait in the test).
    let heldSender: FakeSocket | undefined;
    const fake = fakeServer(undefined, (socket, role, name) => {
      if (role === "TOSEND") {
        heldSender = socket;
        return true;
      }
      socket.write(`REGISTERED TORECV ${name}\n\nFORWARD alice\nContent-length: 5\n\nearly`);
      const release = setTimeout(() => heldSender?.write(`REGISTERED TOSEND ${name}\n\n`), 50);
      cleanups.push(() => clearTimeout(release));
      return true;
    });
    const bob = await connected(fake.port, "bob");
    expect(text((await bob.events.next("received")).body)).toBe("early");
    expect(await fake.answers.count(1)).toEqual(["RECEIVED alice"]);
  });

  test("registers both roles and exchanges messages both ways", async () => {
    const { port } = server();
    const alice = await connected(port, "alice");
    const bob = await connected(port, "bob");
    expect(alice.session.state).toBe("ready");

    expect(await alice.session.send("bob", utf8("hi bob"))).toEqual({ kind: "delivered", to: "bob" });
    const atBob = await bob.events.next("received");
    expect(atBob.from).toBe("alice");
    expect(text(atBob.body)).toBe("hi bob");

    expect(await bob.session.send("alice", utf8("hi alice ✓"))).toEqual({ kind: "delivered", to: "alice" });
    expect(text((await alice.events.next("received")).body)).toBe("hi alice ✓");
  });

  test("asks who is online in SEND order, and with presence is told who arrives and leaves (docs/protocol.md D51-D52)", async () => {
    const { port } = server();
    const alice = await connected(port, "alice", { presence: true });
    const bob = await connected(port, "bob");
    expect(await alice.events.next("presence")).toEqual({ type: "presence", user: "bob", online: true });
    const [sent, online] = await Promise.all([alice.session.send("bob", utf8("hi")), alice.session.who()]);
    expect(sent).toEqual({ kind: "delivered", to: "bob" });
    expect(online).toEqual({ total: 2, names: ["alice", "bob"] });
    await bob.session.close();
    expect(await alice.events.next("presence")).toEqual({ type: "presence", user: "bob", online: false });
    // bob did not ask: he is told nothing of alice's comings and goings.
    expect(bob.events.seen.filter((event) => event.type === "presence")).toEqual([]);
  });

  test("does not send WHO to a server that did not grant presence, which would close on it", async () => {
    const fake = fakeServer((socket, to) => socket.write(`SENT ${to}\n\n`));
    const { session } = await connected(fake.port, "alice");
    expect(await session.who()).toBeUndefined();
    expect(await session.send("bob", utf8("hi"))).toEqual({ kind: "delivered", to: "bob" });
    expect(fake.answers.seen).toEqual(["SEND bob"]);
  });

  test("broadcasts with @ALL and gets one outcome for it", async () => {
    const { port } = server();
    const alice = await connected(port, "alice");
    const bob = await connected(port, "bob");
    const carol = await connected(port, "carol");
    expect(await alice.session.send("ALL", utf8("hello all"))).toEqual({ kind: "delivered", to: "ALL" });
    expect((await bob.events.next("received")).from).toBe("alice");
    expect((await carol.events.next("received")).from).toBe("alice");
    expect(alice.events.seen.filter((event) => event.type === "received")).toEqual([]);
  });

  test("matches outcomes to messages in order with several in flight", async () => {
    const { port } = server();
    const alice = await connected(port, "alice");
    const bob = await rawUser(port, "bob");
    // bob answers nothing yet, so the first reply holds back the others (PROTOCOL.md §4).
    const outcomes = [
      alice.session.send("bob", utf8("one")),
      alice.session.send("nobody", utf8("two")),
      alice.session.send("alice", utf8("three")),
      alice.session.send("bob", utf8("four")),
    ];
    expect(alice.session.inFlight).toBe(4);
    await bob.receiver.receives("FORWARD alice\nContent-length: 3\n\none");
    await bob.receiver.receives("FORWARD alice\nContent-length: 4\n\nfour");
    bob.receiver.send("RECEIVED alice\n\nERROR 103 Header incomplete\n\n");
    expect(await Promise.all(outcomes)).toEqual([
      { kind: "delivered", to: "bob" },
      // The session asks for reasons (docs/protocol.md D50), so each ERROR 102 says why.
      { kind: "failed", to: "nobody", reason: "unable-to-send", because: "offline" },
      { kind: "delivered", to: "alice" },
      { kind: "failed", to: "bob", reason: "unable-to-send", because: "refused" },
    ]);
    expect(alice.session.inFlight).toBe(0);
    expect(text((await alice.events.next("received")).body)).toBe("three");
  });

  test("answers each FORWARD RECEIVED with the sender's name, after the event", async () => {
    const { port } = server();
    const bob = await connected(port, "bob");
    const alice = await rawUser(port, "alice");
    alice.sender.send("SEND bob\nContent-length: 2\n\nhiSEND bob\nContent-length: 0\n\n");
    await alice.sender.receives("SENT bob\n\nSENT bob\n\n");
    expect(text((await bob.events.next("received")).body)).toBe("hi");
    expect((await bob.events.next("received")).body.length).toBe(0);
  });

  test("accepts the original design's SEND <name> as the success reply", async () => {
    const fake = fakeServer((socket, to) => socket.write(`SEND ${to}\n\n`));
    const alice = await connected(fake.port, "alice");
    expect(await alice.session.send("bob", utf8("hi"))).toEqual({ kind: "delivered", to: "bob" });
    expect(await alice.session.send("ALL", utf8("hi"))).toEqual({ kind: "delivered", to: "ALL" });
  });

  test("hands over control characters and escapes as bytes, which render shows escaped", async () => {
    const { port } = server();
    const bob = await connected(port, "bob");
    const mallory = await rawUser(port, "mallory");
    const hostile = utf8("\x1b[2J\x1b]0;pwned\x07\u009b6n\r\n[admin] fake");
    mallory.sender.send(new Uint8Array([...utf8(`SEND bob\nContent-length: ${hostile.length}\n\n`), ...hostile]));
    await mallory.sender.receives("SENT bob\n\n");
    const received = await bob.events.next("received");
    expect(received.body).toEqual(hostile);
    const shown = formatReceived(received.from, received.body, { color: false });
    expect(shown).toBe("[mallory] \\x1b[2J\\x1b]0;pwned\\x07\\x9b6n\\r\\n[admin] fake");
  });

  test("answers ERROR 103 to a FORWARD whose sender name cannot be echoed back, and stays connected", async () => {
    const fake = fakeServer();
    const bob = await connected(fake.port, "bob");
    fake.receiver().write("FORWARD ev\x1bil\nContent-length: 1\n\nxFORWARD alice\nContent-length: 1\n\ny");
    expect(await fake.answers.count(2)).toEqual(["ERROR 103 Header incomplete", "RECEIVED alice"]);
    const rejected = await bob.events.next("rejected");
    expect(rejected.from).toBe("ev\x1bil");
    expect(text((await bob.events.next("received")).body)).toBe("y");
    expect(bob.session.state).toBe("ready");
  });

  test("answers ERROR 103 to a FORWARD it cannot parse, then drops the connection", async () => {
    const fake = fakeServer();
    const bob = await connected(fake.port, "bob", { reconnect: false });
    fake.receiver().write("FORWARD alice\n\n"); // no Content-length
    expect((await bob.events.next("protocol-error")).detail).toContain("Content-length");
    expect((await bob.events.next("disconnected")).reconnectInMs).toBeUndefined();
    expect(await fake.answers.count(1)).toEqual(["ERROR 103 Header incomplete"]);
    expect(bob.session.state).toBe("closed");
  });

  test("reports messages in flight as failed when the connection drops without replies", async () => {
    const fake = fakeServer(); // answers no SEND
    const alice = await connected(fake.port, "alice", { reconnect: false });
    const outcomes = [alice.session.send("bob", utf8("one")), alice.session.send("carol", utf8("two"))];
    await fake.answers.count(2);
    for (const socket of fake.sockets()) socket.terminate();
    expect(await Promise.all(outcomes)).toEqual([
      { kind: "failed", to: "bob", reason: "connection-lost" },
      { kind: "failed", to: "carol", reason: "connection-lost" },
    ]);
    const lost = await alice.events.next("disconnected");
    expect(lost.reconnectInMs).toBeUndefined();
    expect(alice.session.state).toBe("closed");
    expect(await alice.session.send("bob", utf8("three"))).toEqual({ kind: "failed", to: "bob", reason: "not-connected" });
  });

  test("reports a message in flight as failed when the server shuts down", async () => {
    const running = server();
    const alice = await connected(running.port, "alice", { reconnect: false });
    const bob = await rawUser(running.port, "bob");
    const outcome = alice.session.send("bob", utf8("one"));
    await bob.receiver.receives("FORWARD alice\nContent-length: 3\n\none");
    await running.stop();
    expect((await outcome).kind).toBe("failed");
    await alice.events.next("disconnected");
  });

  test("reconnects with backoff after the server restarts on the same port, and registers again", async () => {
    const first = server();
    const port = first.port;
    const alice = await connected(port, "alice", { reconnect: { initialMs: 20, maxMs: 80 } });
    await first.stop();
    const lost = await alice.events.next("disconnected");
    expect(lost.reconnectInMs).toBe(20);
    // While the server is down every attempt fails, and the delay doubles up to the cap.
    const delays = [(await alice.events.next("reconnect-failed")).reconnectInMs, (await alice.events.next("reconnect-failed")).reconnectInMs];
    expect(delays).toEqual([40, 80]);
    expect(alice.session.state).toBe("reconnecting");
    expect(await alice.session.send("alice", utf8("x"))).toEqual({ kind: "failed", to: "alice", reason: "not-connected" });

    const second: RunningServer = startServer({ hostname: "127.0.0.1", port });
    cleanups.push(() => second.stop());
    expect(await alice.events.next("connected")).toEqual({ type: "connected", reconnected: true });
    expect(alice.session.state).toBe("ready");
    expect(await alice.session.send("alice", utf8("back"))).toEqual({ kind: "delivered", to: "alice" });
  });

  test("refuses bodies over the limit the server says (docs/protocol.md D69) and bad recipients without writing them, and stays connected", async () => {
    const { port } = server({ maxBodyBytes: 4 });
    const alice = await connected(port, "alice");
    expect(await alice.session.send("alice", utf8("12345"))).toEqual({ kind: "failed", to: "alice", reason: "too-large", maxBytes: 4 });
    expect(await alice.session.send("no body", utf8("x"))).toEqual({ kind: "failed", to: "no body", reason: "bad-recipient" });
    expect(await alice.session.send("alice", utf8("1234"))).toEqual({ kind: "delivered", to: "alice" });
    expect(alice.events.seen.map((event) => event.type)).toEqual(["connected", "received"]);
  });

  test("sends bodies over 64 KiB to a server that says it takes them", async () => {
    const { port } = server({ maxBodyBytes: 100_000 });
    const alice = await connected(port, "alice");
    const body = new Uint8Array(70_000).fill(0x61);
    expect(await alice.session.send("alice", body)).toEqual({ kind: "delivered", to: "alice" });
    expect((await alice.events.next("received")).body.length).toBe(70_000);
  });

  test("keeps to maxBodyBytes with a server that does not say its limit", async () => {
    const fake = fakeServer((socket, to) => socket.write(`SENT ${to}\n\n`));
    const alice = await connected(fake.port, "alice", { maxBodyBytes: 4 });
    expect(await alice.session.send("bob", utf8("12345"))).toEqual({ kind: "failed", to: "bob", reason: "too-large", maxBytes: 4 });
    expect(await alice.session.send("bob", utf8("1234"))).toEqual({ kind: "delivered", to: "bob" });
    expect(fake.answers.seen).toEqual(["SEND bob"]);
  });

  test("reads the replies the server wrote before closing, when the receiving connection closes first (docs/protocol.md D18)", async () => {
    let sender: FakeSocket | undefined;
    const fake = fakeServer((socket) => {
      sender = socket;
      // The receiving connection goes first; the reply is written only once it is closed.
      const receiver = fake.receiver();
      receiver.end();
    });
    const alice = await connected(fake.port, "alice", { reconnect: false });
    const outcome = alice.session.send("bob", utf8("one"));
    await fake.answers.count(1);
    await eventually(() => fake.sockets().length === 1, "the receiving connection is closed");
    sender!.write("SENT bob\n\n");
    sender!.end();
    expect(await outcome).toEqual({ kind: "delivered", to: "bob" });
    await alice.events.next("disconnected");
  });

  test("with compat, writes one SEND at a time, each once the one before has its reply (docs/protocol.md D68)", async () => {
    const held: FakeSocket[] = [];
    const fake = fakeServer((socket) => held.push(socket));
    const alice = await connected(fake.port, "alice", { compat: true });
    const outcomes = [alice.session.send("bob", utf8("one")), alice.session.send("carol", utf8("two")), alice.session.send("dave", utf8("three"))];
    await fake.answers.count(1);
    expect(alice.session.inFlight).toBe(3);
    for (const [i, to] of ["bob", "carol"].entries()) {
      expect(fake.answers.seen).toEqual(["SEND bob", "SEND carol", "SEND dave"].slice(0, i + 1));
      held[i]!.write(`SEND ${to}\n`);
      await fake.answers.count(i + 2);
    }
    held[2]!.write("ERROR 102 Unable to send\n \n");
    expect(await Promise.all(outcomes)).toEqual([
      { kind: "delivered", to: "bob" },
      { kind: "delivered", to: "carol" },
      { kind: "failed", to: "dave", reason: "unable-to-send" },
    ]);
  });

  describe("connect errors are values", () => {
    test("an unreachable server", async () => {
      const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      const closedPort = listener.port;
      listener.stop(true);
      const session = new Session({ host: "127.0.0.1", port: closedPort, user: "alice" });
      expect(await session.connect()).toEqual({ kind: "unreachable", detail: "connection refused" });
    });

    test("a name already in use", async () => {
      const { port } = server();
      await connected(port, "alice");
      const again = new Session({ host: "127.0.0.1", port, user: "alice" });
      expect(await again.connect()).toEqual({ kind: "name-taken" });
      expect(again.state).toBe("idle");
    });

    test("a malformed name, without contacting the server", async () => {
      expect(await new Session({ host: "127.0.0.1", port: 1, user: "ALL" }).connect()).toEqual({ kind: "malformed-name" });
      expect(await new Session({ host: "127.0.0.1", port: 1, user: "a b" }).connect()).toEqual({ kind: "malformed-name" });
    });

    test("a server that never answers, within the connect deadline, leaving it no connection (a reset, not a FIN)", async () => {
      const seen: string[] = [];
      const closed = Promise.withResolvers<void>();
      const silent = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        allowHalfOpen: true,
        socket: {
          data() {},
          end: () => void seen.push("end"),
          close: () => void (seen.push("close") === 2 && closed.resolve()),
        },
      });
      cleanups.push(() => silent.stop(true));
      const session = new Session({ host: "127.0.0.1", port: silent.port, user: "alice", connectTimeoutMs: 100 });
      expect(await session.connect()).toEqual({ kind: "unreachable", detail: "no answer within 100 ms" });
      await closed.promise;
      expect(seen).toEqual(["close", "close"]);
    });
  });
});
