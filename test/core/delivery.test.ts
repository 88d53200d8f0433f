// Delivery over the real LocalDirectory with scripted endpoints. Over the wire, the
// scenarios cover delivery's rules; this file covers what a socket test cannot
// stage deterministically: a close chain that runs inside a broadcast.

import { describe, expect, test } from "bun:test";
import { Role } from "../../src/protocol/messages.ts";
import { Delivery } from "../../src/core/delivery.ts";
import type { Endpoint } from "../../src/core/endpoint.ts";
import { LocalDirectory as Registry } from "../../src/core/local-directory.ts";
import { FailReason } from "../../src/core/reasons.ts";
import type { Transaction } from "../../src/core/transaction.ts";

/** An endpoint whose forward() runs a script; it records what it was given. */
class ScriptedEndpoint implements Endpoint {
  readonly name: string | undefined;
  readonly address = "127.0.0.1";
  readonly forwarded: Transaction[] = [];
  closed = false;
  onForward: () => boolean = () => true;

  /** `name`: the spelling it registered with, as a connection knows it. */
  constructor(name?: string) {
    this.name = name;
  }

  forward(tx: Transaction): FailReason | undefined {
    if (this.closed) return FailReason.Disconnected;
    const accepted = this.onForward();
    if (accepted) this.forwarded.push(tx);
    return accepted ? undefined : FailReason.QueueFull;
  }

  close(): void {
    this.closed = true;
  }
}

const body = new TextEncoder().encode("hi");

async function register(registry: Registry, name: string, spelled?: boolean): Promise<ScriptedEndpoint> {
  const endpoint = new ScriptedEndpoint(spelled ? name : undefined);
  await registry.claim(name, Role.ToSend, endpoint);
  await registry.claim(name, Role.ToRecv, endpoint);
  return endpoint;
}

describe("Delivery", async () => {
  test("survives a broadcast whose FORWARD to one user closes a later user in the same loop, and answers ERROR 102", async () => {
    const registry = new Registry(60_000);
    const delivery = new Delivery(registry);
    const a = await register(registry, "a");
    const b = await register(registry, "b");
    const c = await register(registry, "c");
    await register(registry, "x");
    // A's outbox overflows on the FORWARD; the close chain that follows ends b's
    // registration before the loop reaches b (docs/protocol.md D15, D18).
    a.onForward = () => {
      registry.release("a", a, false);
      registry.release("b", b, false);
      return false;
    };
    const sent = delivery.send("x", "ALL", body);
    expect(typeof sent).toBe("object");
    const tx = sent as Transaction;
    expect(tx.outcome).toEqual({ kind: "failed", reason: FailReason.QueueFull });
    // The others still got the message (D15).
    expect(c.forwarded).toEqual([tx]);
  });

  test("answers ERROR 102 at once when the one recipient cannot take the FORWARD", async () => {
    const registry = new Registry(60_000);
    const delivery = new Delivery(registry);
    const bob = await register(registry, "bob");
    bob.onForward = () => false;
    expect(delivery.send("alice", "bob", body)).toBe(FailReason.QueueFull);
  });

  test("answers ERROR 102 at once for ALL when nobody else is registered", async () => {
    const registry = new Registry(60_000);
    await register(registry, "alice");
    expect(new Delivery(registry).send("alice", "ALL", body)).toBe(FailReason.NoRecipient);
  });

  test("waits for a directory that must ask further, then forwards or fails", async () => {
    const registry = new Registry(60_000);
    const bob = await register(registry, "bob");
    // A directory whose every lookup is a round trip, as a cluster's miss is.
    const asking = Object.assign(Object.create(registry) as Registry, { lookup: async (name: string) => registry.lookup(name) });
    const delivery = new Delivery(asking);
    const found = delivery.send("alice", "bob", body) as Transaction;
    const missing = delivery.send("alice", "nobody", body) as Transaction;
    expect(bob.forwarded).toEqual([]);
    await Promise.resolve();
    expect(bob.forwarded).toEqual([found]);
    expect(found.outcome).toBeUndefined();
    expect(missing.outcome).toEqual({ kind: "failed", reason: FailReason.NoRecipient });
  });

  test("names a recipient found by asking further as it registered, as when it was known at once (docs/protocol.md §6)", async () => {
    const registry = new Registry(60_000);
    const bob = await register(registry, "Bob", true);
    const asking = Object.assign(Object.create(registry) as Registry, { lookup: async (name: string) => registry.lookup(name) });
    const known = new Delivery(registry).send("alice", "bob", body) as Transaction;
    const asked = new Delivery(asking).send("alice", "bob", body) as Transaction;
    await Promise.resolve();
    expect(bob.forwarded).toEqual([known, asked]);
    for (const tx of [known, asked]) tx.ack();
    expect(new TextDecoder().decode(asked.bytes)).toBe("SENT Bob\n\n");
    expect(new TextDecoder().decode(known.bytes)).toBe("SENT Bob\n\n");
  });

  test("reports each recipient that refused a broadcast, as a typed event (D29)", async () => {
    const registry = new Registry(60_000);
    const refused: string[] = [];
    const delivery = new Delivery(registry, { emit: (event) => void (event.type === "broadcast.refused" && refused.push(`${event.from}->${event.reason}`)), wants: () => true });
    const idle = await register(registry, "idle");
    await register(registry, "busy");
    await register(registry, "x");
    idle.onForward = () => false;
    const tx = delivery.send("x", "ALL", body) as Transaction;
    expect(tx.outcome).toEqual({ kind: "failed", reason: FailReason.QueueFull });
    expect(refused).toEqual(["x->queue-full"]);
  });
});
