// Presence over a real local directory and a wire whose backlog the test sets:
// notices carry state, coalesce while the wire is busy, and a connection too
// far behind is told RESYNC instead of its backlog (docs/protocol.md D51-D53).

import { describe, expect, test } from "bun:test";
import type { Endpoint } from "../../src/core/endpoint.ts";
import type { Wire } from "../../src/core/hub.ts";
import { LocalDirectory } from "../../src/core/local-directory.ts";
import { Presence, PresenceWatch, UsersReply } from "../../src/core/presence.ts";
import { latin1 } from "../../src/protocol/ascii.ts";

/** A wire that records what is written and holds `queuedBytes` of backlog until the test flushes it. */
class BacklogWire implements Wire {
  readonly address = "127.0.0.1";
  readonly secure = false;
  readonly transport = "test";
  readonly queuedTotal = 0;
  readonly flushedTotal = 0;
  queuedBytes = 0;
  written: string[] = [];
  write(message: Uint8Array): void {
    this.written.push(latin1(message));
  }
  writeForward(): void {}
  pause(): void {}
  resume(): void {}
  end(): void {}
  drop(): void {}
}

function endpoint(): Endpoint {
  return { name: undefined, address: "127.0.0.1", forward: () => undefined, close: () => {} };
}

function setup(maxPending = 256) {
  const directory = new LocalDirectory(60_000);
  const presence = new Presence(directory);
  const wire = new BacklogWire();
  const watch = new PresenceWatch(wire, "carol", maxPending);
  presence.add(watch);
  const held = new Map<string, Endpoint>();
  const arrive = async (name: string) => {
    const one = endpoint();
    held.set(name, one);
    await directory.claim(name, "TOSEND", one);
    await directory.claim(name, "TORECV", one);
  };
  const leave = (name: string) => directory.release(name, held.get(name)!, false);
  return { directory, presence, wire, watch, arrive, leave };
}

const turn = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("presence", () => {
  test("tells arrivals and departures of others, not of the watcher itself, once the user holds both roles", async () => {
    const { directory, wire, arrive, leave } = setup();
    await arrive("alice");
    await arrive("carol");
    await directory.claim("half", "TOSEND", endpoint());
    await turn();
    expect(wire.written).toEqual(["ONLINE alice\n\n"]);
    leave("alice");
    await turn();
    expect(wire.written).toEqual(["ONLINE alice\n\n", "OFFLINE alice\n\n"]);
  });

  test("while the wire is busy, changes wait and coalesce: one who came and went is never mentioned", async () => {
    const { wire, watch, arrive, leave } = setup();
    wire.queuedBytes = 100;
    await arrive("alice");
    await arrive("bob");
    leave("alice");
    await turn();
    expect(wire.written).toEqual([]);
    wire.queuedBytes = 0;
    watch.onFlushed();
    expect(wire.written).toEqual(["ONLINE bob\n\n"]);
  });

  test("a spelling change is told even when the state comes back to what it was", async () => {
    const { wire, watch, arrive, leave } = setup();
    await arrive("Alice");
    await turn();
    wire.queuedBytes = 100;
    leave("Alice");
    await arrive("alice");
    wire.queuedBytes = 0;
    watch.onFlushed();
    expect(wire.written).toEqual(["ONLINE Alice\n\n", "ONLINE alice\n\n"]);
  });

  test("past maxPending names waiting, the backlog is dropped and the watcher told RESYNC once", async () => {
    const { wire, watch, arrive } = setup(3);
    wire.queuedBytes = 100;
    for (const name of ["a1", "a2", "a3", "a4", "a5", "a6"]) await arrive(name);
    wire.queuedBytes = 0;
    watch.onFlushed();
    watch.onFlushed();
    expect(wire.written).toEqual(["RESYNC\n\n"]);
  });

  test("a USERS list, taken when written, is sorted regardless of case, and replaces what was waiting", async () => {
    const { presence, wire, watch, arrive } = setup();
    wire.queuedBytes = 100;
    await arrive("bob");
    await arrive("Alice");
    await arrive("carol");
    const reply = new UsersReply(presence, 65536, watch);
    await arrive("dave");
    expect(latin1(reply.bytes)).toBe("USERS 4\nContent-length: 21\n\nAlice\nbob\ncarol\ndave\n");
    wire.queuedBytes = 0;
    watch.onFlushed();
    expect(wire.written).toEqual([]);
  });

  test("a USERS list over the body limit counts everyone and names as many as fit", async () => {
    const { presence, arrive } = setup();
    for (const name of ["anna", "bert", "cleo"]) await arrive(name);
    expect(latin1(new UsersReply(presence, 11, undefined).bytes)).toBe("USERS 3\nContent-length: 10\n\nanna\nbert\n");
  });
});
