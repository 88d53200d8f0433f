// Delivery over the real Registry with scripted endpoints. Over the wire, the
// scenarios cover delivery's rules; this file covers what a socket test cannot
// stage deterministically: a close chain that runs inside a broadcast.

import { describe, expect, test } from "bun:test";
import { Role } from "../../src/protocol/messages.ts";
import { Delivery } from "../../src/server/delivery.ts";
import type { Endpoint } from "../../src/server/endpoint.ts";
import { Registry } from "../../src/server/registry.ts";
import { FailReason, type Transaction } from "../../src/server/transaction.ts";

/** An endpoint whose forward() runs a script; it records what it was given. */
class ScriptedEndpoint implements Endpoint {
  readonly address = "127.0.0.1";
  readonly forwarded: Transaction[] = [];
  closed = false;
  onForward: () => boolean = () => true;

  forward(tx: Transaction): boolean {
    if (this.closed) return false;
    const accepted = this.onForward();
    if (accepted) this.forwarded.push(tx);
    return accepted;
  }

  close(): void {
    this.closed = true;
  }
}

const head = new Uint8Array(0);
const body = new TextEncoder().encode("hi");

function register(registry: Registry, name: string): ScriptedEndpoint {
  const endpoint = new ScriptedEndpoint();
  registry.claim(name, Role.ToSend, endpoint);
  registry.claim(name, Role.ToRecv, endpoint);
  return endpoint;
}

describe("Delivery", () => {
  test("survives a broadcast whose FORWARD to one user closes a later user in the same loop, and answers ERROR 102", () => {
    const registry = new Registry(60_000);
    const delivery = new Delivery(registry);
    const a = register(registry, "a");
    const b = register(registry, "b");
    const c = register(registry, "c");
    register(registry, "x");
    // A's outbox overflows on the FORWARD; the close chain that follows ends b's
    // registration before the loop reaches b (docs/protocol.md D15, D18).
    a.onForward = () => {
      registry.release("a", a);
      registry.release("b", b);
      return false;
    };
    const sent = delivery.send("x", "ALL", head, body);
    expect(typeof sent).toBe("object");
    const tx = sent as Transaction;
    expect(tx.outcome).toEqual({ kind: "failed", reason: FailReason.QueueFull });
    // The others still got the message (D15).
    expect(c.forwarded).toEqual([tx]);
  });

  test("answers ERROR 102 at once when the one recipient cannot take the FORWARD", () => {
    const registry = new Registry(60_000);
    const delivery = new Delivery(registry);
    const bob = register(registry, "bob");
    bob.onForward = () => false;
    expect(delivery.send("alice", "bob", head, body)).toBe(FailReason.QueueFull);
  });

  test("answers ERROR 102 at once for ALL when nobody else is registered", () => {
    const registry = new Registry(60_000);
    register(registry, "alice");
    expect(new Delivery(registry).send("alice", "ALL", head, body)).toBe(FailReason.NoRecipient);
  });
});
