// Peer over a recording Wire and a directory whose claims wait until the test
// lets them go: what a cluster's bus or a password check will do. Replies and
// processing must keep request order across that wait (docs/protocol.md D14).

import { afterEach, describe, expect, test } from "bun:test";
import type { ClaimRefusal, Directory, PresenceListener, User } from "../../src/core/directory.ts";
import type { Endpoint } from "../../src/core/endpoint.ts";
import { createHub, type Wire } from "../../src/core/hub.ts";
import { LocalDirectory } from "../../src/core/local-directory.ts";
import { Peer } from "../../src/core/peer.ts";
import { ascii, latin1 } from "../../src/protocol/ascii.ts";
import { ErrorCode, ProtocolError, ProtocolReason } from "../../src/protocol/errors.ts";
import { decodeClientHead } from "../../src/protocol/messages.ts";
import type { Role } from "../../src/protocol/messages.ts";

class RecordingWire implements Wire {
  readonly address = "127.0.0.1";
  readonly secure = false;
  readonly transport = "test";
  readonly queuedBytes = 0;
  /** Past this many bytes written, tells `peer` it overflowed, as a transport's write queue does. */
  overflowAt = Infinity;
  peer: Peer | undefined;
  queuedTotal = 0;
  /** Everything written has left at once; the test tells the peer with onFlushed(). */
  get flushedTotal(): number {
    return this.queuedTotal;
  }
  written = "";
  paused = false;
  ended: "end" | "drop" | undefined;
  write(message: Uint8Array): void {
    this.written += latin1(message);
    if (this.written.length > this.overflowAt) this.peer?.onOverflow();
  }
  writeForward(from: string, body: Uint8Array): void {
    this.queuedTotal += body.length;
    this.written += `FORWARD ${from}\nContent-length: ${body.length}\n\n${latin1(body)}`;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = "end";
  }
  drop(): void {
    this.ended = "drop";
  }
}

/** The local directory, with each claim held until `release()` of the test lets the oldest one through. */
class GatedDirectory implements Directory {
  readonly inner = new LocalDirectory(60_000);
  readonly #gates: (() => void)[] = [];
  get size(): number {
    return this.inner.size;
  }
  get waiting(): number {
    return this.#gates.length;
  }
  claim(name: string, role: Role, endpoint: Endpoint): Promise<User | ClaimRefusal> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#gates.push(resolve);
    return promise.then(() => this.inner.claim(name, role, endpoint));
  }
  /** Lets the oldest claim through and waits until the peer has handled its answer. */
  async open(): Promise<void> {
    await settle();
    this.#gates.shift()!();
    await settle();
  }
  release(name: string, endpoint: Endpoint, reserve: boolean): void {
    this.inner.release(name, endpoint, reserve);
  }
  lookup(name: string) {
    return this.inner.lookup(name);
  }
  receivers(except: string) {
    return this.inner.receivers(except);
  }
  online() {
    return this.inner.online();
  }
  watch(listener: PresenceListener) {
    this.inner.watch(listener);
  }
}

/** Lets every promise already on its way settle: the peer asks its authority, then the directory. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const peers: Peer[] = [];
afterEach(() => {
  for (const peer of peers.splice(0)) peer.shutdown();
});

function setup() {
  const directory = new GatedDirectory();
  const hub = createHub({ directory });
  const connect = () => {
    const wire = new RecordingWire();
    const peer = new Peer(wire, hub);
    peers.push(peer);
    const say = (text: string) => {
      const bytes = ascii(text);
      const head = decodeClientHead(bytes);
      if (head instanceof Error) throw head;
      peer.onMessage(head, bytes.subarray(bytes.length - head.length), bytes.length - head.length);
    };
    return { wire, peer, say };
  };
  return { directory, connect, ...connect() };
}

describe("Peer", () => {
  test("holds messages behind a pending registration, pauses reading, then handles them in order", async () => {
    const { directory, wire, say } = setup();
    say("REGISTER TOSEND alice\n\n");
    say("SEND alice\nContent-length: 2\n\nhi");
    say("REGISTER TORECV alice\n\n");
    expect(wire.paused).toBe(true);
    await settle();
    expect(wire.written).toBe("");
    expect(directory.waiting).toBe(1);
    await directory.open();
    // The SEND came before TORECV: not yet registered, so ERROR 101, and the next claim is pending.
    expect(wire.written).toBe("REGISTERED TOSEND alice\n\nERROR 101 No user registered\n\n");
    expect(wire.paused).toBe(true);
    await directory.open();
    expect(wire.written).toEndWith("REGISTERED TORECV alice\n\n");
    expect(wire.paused).toBe(false);
    say("SEND alice\nContent-length: 2\n\nhi");
    expect(wire.written).toEndWith("FORWARD alice\nContent-length: 2\n\nhi");
  });

  test("writes a registration's answer after the replies owed before it", async () => {
    const { directory, connect, wire, say } = setup();
    const other = connect();
    say("REGISTER TOSEND bob\n\n");
    await directory.open();
    other.say("REGISTER TORECV bob\n\n");
    await directory.open();
    say("SEND bob\nContent-length: 1\n\nx");
    // TORECV bob is held by the other connection: ERROR 104, but only after the SEND's reply.
    say("REGISTER TORECV bob\n\n");
    await directory.open();
    expect(wire.written).toBe("REGISTERED TOSEND bob\n\n");
    other.peer.onFlushed();
    other.say("RECEIVED bob\n\n");
    expect(wire.written).toBe("REGISTERED TOSEND bob\n\nSENT bob\n\nERROR 104 Username taken\n\n");
  });

  test("gives the name back when the connection closed while its claim was pending", async () => {
    const { directory, peer, say } = setup();
    say("REGISTER TOSEND alice\n\n");
    await settle();
    expect(directory.waiting).toBe(1);
    peer.onClose();
    await directory.open();
    expect(directory.size).toBe(0);
  });

  test("logs a user's registration once, though both roles' answers arrive after both claims", async () => {
    const registered: string[] = [];
    const hub = createHub({ events: { emit: (event) => void (event.type === "user.registered" && registered.push(event.user)), wants: () => true } });
    // Two connections, as parley's client registers: each role's claim is made before either answer is handled.
    const wires = [new RecordingWire(), new RecordingWire()];
    wires.forEach((wire, i) => {
      const peer = new Peer(wire, hub);
      peers.push(peer);
      const bytes = ascii(`REGISTER ${i === 0 ? "TOSEND" : "TORECV"} alice\n\n`);
      peer.onMessage(decodeClientHead(bytes) as never, new Uint8Array(0), bytes.length);
    });
    await settle();
    expect(wires.map((wire) => wire.written)).toEqual(["REGISTERED TOSEND alice\n\n", "REGISTERED TORECV alice\n\n"]);
    expect(registered).toEqual(["alice"]);
  });

  test("survives a registration's answer that overflows the write cap: closed as a slow consumer, nothing thrown", async () => {
    const { directory, wire, peer, say, connect } = setup();
    const other = connect();
    say("REGISTER TOSEND b\n\n");
    await directory.open();
    other.say("REGISTER TORECV b\n\n");
    await directory.open();
    // The answer will be ERROR 104 (TORECV b is held); writing it is what overflows.
    wire.overflowAt = wire.written.length + 10;
    wire.peer = peer;
    say("REGISTER TORECV b\n\n");
    await directory.open();
    expect(peer.closed).toBe(true);
    expect(wire.ended).toBe("drop");
  });

  test("answers a SEND held behind a registration when the connection closes before the claim is decided (D18, D22)", async () => {
    const { directory, wire, peer, say } = setup();
    say("REGISTER TOSEND alice\n\n");
    say("SEND bob\nContent-length: 1\n\nx");
    await settle();
    expect(directory.waiting).toBe(1);
    peer.shutdown();
    expect(wire.written).toBe("ERROR 102 Unable to send\n\n");
    expect(wire.ended).toBe("end");
    await directory.open();
  });

  test("answers an unparseable message after the registration and the messages held before it", async () => {
    const { directory, wire, peer, say } = setup();
    say("REGISTER TOSEND alice\n\n");
    say("SEND bob\nContent-length: 1\n\nx");
    peer.onProtocolError(new ProtocolError(ErrorCode.HeaderIncomplete, "unknown verb", ProtocolReason.UnknownVerb));
    expect(wire.written).toBe("");
    await directory.open();
    expect(wire.written).toBe("REGISTERED TOSEND alice\n\nERROR 101 No user registered\n\nERROR 103 Header incomplete\n\n");
    expect(wire.ended).toBe("end");
  });
});
