// LocalDirectory (docs/protocol.md §3) with fake endpoints: the registry only ever reads
// an endpoint's address and calls close(), so a record of those calls is the
// whole of what it can do to a connection.

import { afterEach, describe, expect, test } from "bun:test";
import { Role } from "../../src/protocol/messages.ts";
import type { Endpoint } from "../../src/core/endpoint.ts";
import type { ClaimRefusal, User } from "../../src/core/directory.ts";
import { LocalDirectory as Registry } from "../../src/core/local-directory.ts";

/** A claim's user, or undefined when it was refused. */
function asUser(result: User | ClaimRefusal): User | undefined {
  return typeof result === "string" ? undefined : result;
}

class FakeEndpoint implements Endpoint {
  readonly name = undefined;
  readonly address: string;
  readonly label: string;
  closedFor: string | undefined;
  readonly #closed = Promise.withResolvers<string>();

  constructor(label: string, address = "127.0.0.1") {
    this.label = label;
    this.address = address;
  }

  forward(): undefined {
    throw new Error("the registry never forwards");
  }

  close(reason: string): void {
    if (this.closedFor !== undefined) throw new Error(`${this.label} closed twice`);
    this.closedFor = reason;
    this.#closed.resolve(reason);
  }

  /** Resolves with the close reason, or rejects after `deadlineMs`. */
  async closes(deadlineMs = 2000): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.label} was not closed within ${deadlineMs} ms`)), deadlineMs)));
    try {
      return await Promise.race([this.#closed.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

// Every registry a test makes, so a pending pairing timer never outlives its test.
const names = ["alice", "bob"];
const made: { registry: Registry; endpoints: FakeEndpoint[] }[] = [];
afterEach(() => {
  for (const { registry, endpoints } of made.splice(0)) {
    for (const endpoint of endpoints) for (const name of names) registry.release(name, endpoint, false);
  }
});

function setup(pairingTimeoutMs = 60_000) {
  const registry = new Registry(pairingTimeoutMs);
  const endpoints: FakeEndpoint[] = [];
  made.push({ registry, endpoints });
  const endpoint = (label: string, address?: string) => {
    const created = new FakeEndpoint(label, address);
    endpoints.push(created);
    return created;
  };
  return { registry, endpoint };
}

describe("LocalDirectory", async () => {
  test("registers a user once both roles are held, in either order", async () => {
    const { registry, endpoint } = setup();
    for (const [name, first, second] of [
      ["alice", Role.ToSend, Role.ToRecv],
      ["bob", Role.ToRecv, Role.ToSend],
    ] as const) {
      const one = endpoint(`${name}1`);
      const two = endpoint(`${name}2`);
      const user = asUser(await registry.claim(name, first, one));
      expect(user?.registered).toBe(false);
      expect(registry.lookup(name)).toBeUndefined();
      expect(asUser(await registry.claim(name, second, two))).toBe(user!);
      expect(user!.registered).toBe(true);
      expect(registry.lookup(name)).toBe(user!.receiver);
      expect(user!.sender).toBe(first === Role.ToSend ? one : two);
      expect(user!.receiver).toBe(first === Role.ToSend ? two : one);
    }
    expect(registry.size).toBe(2);
  });

  test("lets one endpoint hold both roles", async () => {
    const { registry, endpoint } = setup();
    const single = endpoint("single");
    await registry.claim("alice", Role.ToSend, single);
    const user = asUser(await registry.claim("alice", Role.ToRecv, single));
    expect(user?.registered).toBe(true);
    expect(user?.sender).toBe(single);
    expect(user?.receiver).toBe(single);
  });

  test("gives a role again to the endpoint that holds it (idempotent)", async () => {
    const { registry, endpoint } = setup();
    const sender = endpoint("sender");
    const user = asUser(await registry.claim("alice", Role.ToSend, sender));
    expect(asUser(await registry.claim("alice", Role.ToSend, sender))).toBe(user!);
  });

  test("refuses a role held by another endpoint, before and after the user is registered", async () => {
    const { registry, endpoint } = setup();
    const sender = endpoint("sender");
    const user = asUser(await registry.claim("alice", Role.ToSend, sender));
    expect(await registry.claim("alice", Role.ToSend, endpoint("intruder"))).toBe("taken");
    const receiver = endpoint("receiver");
    await registry.claim("alice", Role.ToRecv, receiver);
    expect(await registry.claim("alice", Role.ToRecv, endpoint("intruder"))).toBe("taken");
    expect(user?.sender).toBe(sender);
    expect(registry.lookup("alice")).toBe(receiver);
  });

  test("refuses the second role from another address (pairing guard), and compares the address only", async () => {
    const { registry, endpoint } = setup();
    await registry.claim("alice", Role.ToSend, endpoint("sender", "10.0.0.1"));
    expect(await registry.claim("alice", Role.ToRecv, endpoint("grabber", "10.0.0.2"))).toBe("taken");
    expect(registry.lookup("alice")).toBeUndefined();
    expect((asUser(await registry.claim("alice", Role.ToRecv, endpoint("receiver", "10.0.0.1"))))?.registered).toBe(true);
  });

  test("holds one name regardless of case, in the spelling that claimed it first (docs/protocol.md §6)", async () => {
    const { registry, endpoint } = setup();
    const lower = endpoint("lower");
    await registry.claim("alice", Role.ToSend, lower);
    expect(await registry.claim("Alice", Role.ToSend, endpoint("upper"))).toBe("taken");
    const receiver = endpoint("receiver");
    expect((asUser(await registry.claim("ALICE", Role.ToRecv, receiver)))?.name).toBe("alice");
    expect(registry.size).toBe(1);
    expect(registry.lookup("aLiCe")).toBe(receiver);
    registry.release("ALICE", lower, false);
    expect(registry.size).toBe(0);
  });

  describe("release", async () => {
    test("frees the name and closes the user's other endpoint", async () => {
      const { registry, endpoint } = setup();
      const sender = endpoint("sender");
      const receiver = endpoint("receiver");
      await registry.claim("alice", Role.ToSend, sender);
      await registry.claim("alice", Role.ToRecv, receiver);
      registry.release("alice", sender, false);
      expect(await receiver.closes()).toBe("partner-closed");
      expect(sender.closedFor).toBeUndefined();
      expect(registry.lookup("alice")).toBeUndefined();
      expect(registry.size).toBe(0);
      // Free for anyone, from any address.
      expect(asUser(await registry.claim("alice", Role.ToRecv, endpoint("newcomer", "10.9.9.9")))).toBeDefined();
    });

    test("closes nothing when a single endpoint holding both roles goes", async () => {
      const { registry, endpoint } = setup();
      const single = endpoint("single");
      await registry.claim("alice", Role.ToSend, single);
      await registry.claim("alice", Role.ToRecv, single);
      registry.release("alice", single, false);
      expect(single.closedFor).toBeUndefined();
      expect(registry.size).toBe(0);
    });

    test("ignores an endpoint that holds no role of that name", async () => {
      const { registry, endpoint } = setup();
      const sender = endpoint("sender");
      const receiver = endpoint("receiver");
      await registry.claim("alice", Role.ToSend, sender);
      await registry.claim("alice", Role.ToRecv, receiver);
      registry.release("alice", endpoint("stranger"), false);
      registry.release("bob", sender, false);
      expect(registry.lookup("alice")).toBeDefined();
      expect(sender.closedFor ?? receiver.closedFor).toBeUndefined();
    });

    test("ignores a stale endpoint once the name belongs to someone new", async () => {
      const { registry, endpoint } = setup();
      const old = endpoint("old");
      await registry.claim("alice", Role.ToSend, old);
      registry.release("alice", old, false);
      const sender = endpoint("sender");
      const receiver = endpoint("receiver");
      await registry.claim("alice", Role.ToSend, sender);
      await registry.claim("alice", Role.ToRecv, receiver);
      registry.release("alice", old, false);
      expect(registry.lookup("alice")).toBeDefined();
    });
  });

  describe("pairing deadline", async () => {
    test("closes the only holder when the second role does not come in time", async () => {
      const { registry, endpoint } = setup(30);
      const sender = endpoint("sender");
      await registry.claim("alice", Role.ToSend, sender);
      expect(await sender.closes()).toBe("pairing-timeout");
    });

    test("leaves a user alone once both roles are held", async () => {
      const { registry, endpoint } = setup(30);
      const sender = endpoint("sender");
      const receiver = endpoint("receiver");
      await registry.claim("alice", Role.ToSend, sender);
      await registry.claim("alice", Role.ToRecv, receiver);
      // A user registered after alice, whose deadline therefore passes after hers.
      const canary = endpoint("canary");
      await registry.claim("bob", Role.ToSend, canary);
      await canary.closes();
      expect(sender.closedFor ?? receiver.closedFor).toBeUndefined();
    });

    test("does not carry over to a new user of a released name", async () => {
      const { registry, endpoint } = setup(30);
      const first = endpoint("first");
      await registry.claim("alice", Role.ToSend, first);
      registry.release("alice", first, false);
      const sender = endpoint("sender");
      const receiver = endpoint("receiver");
      await registry.claim("alice", Role.ToSend, sender);
      await registry.claim("alice", Role.ToRecv, receiver);
      const canary = endpoint("canary");
      await registry.claim("bob", Role.ToSend, canary);
      await canary.closes();
      expect(first.closedFor ?? sender.closedFor ?? receiver.closedFor).toBeUndefined();
    });
  });

  test("lists the receivers of registered users only, as a snapshot", async () => {
    const { registry, endpoint } = setup();
    await registry.claim("alice", Role.ToSend, endpoint("a1"));
    await registry.claim("alice", Role.ToRecv, endpoint("a2"));
    const bobSender = endpoint("b1");
    await registry.claim("bob", Role.ToSend, bobSender);
    const receivers = registry.receivers("nobody");
    expect(receivers.map((each) => (each as FakeEndpoint).label)).toEqual(["a2"]);
    const bobReceiver = endpoint("b2");
    await registry.claim("bob", Role.ToRecv, bobReceiver);
    expect(receivers).toHaveLength(1);
    expect(registry.receivers("nobody").map((each) => (each as FakeEndpoint).label).sort()).toEqual(["a2", "b2"]);
    // A broadcast's sender is not its own recipient.
    expect(registry.receivers("alice")).toEqual([bobReceiver]);
  });
});
