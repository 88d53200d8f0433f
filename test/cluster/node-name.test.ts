// A node's name is its identity on the bus (docs/protocol.md D57): a second
// process under a live node's name is refused; a dead node's name is taken over.

import { afterEach, expect, test } from "bun:test";
import { joinCluster } from "../../src/cluster/node.ts";
import { silentEvents } from "../../src/core/events.ts";
import { startNats, type NatsCluster } from "../support/nats.ts";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const lease = { heartbeatMs: 100, fenceMs: 500, deadMs: 800, suspectMs: 300 };

function join(nats: NatsCluster, node: string) {
  return joinCluster({ servers: [nats.urls], node, port: 0, deliveryDeadlineMs: 1000, events: silentEvents, lease });
}

test("a second process under a live node's name is refused, and one under a node that left is not", async () => {
  const nats = await startNats(1);
  stops.push(() => nats.stop());
  const first = await join(nats, "chat-1");
  await expect(join(nats, "chat-1")).rejects.toThrow('a live node is already called "chat-1"');
  await first.leave();
  const again = await join(nats, "chat-1");
  stops.push(() => again.leave());
  expect(again.node).toBe("chat-1");
}, 20_000);

test("names that are not a NATS token are refused before anything connects", async () => {
  await expect(joinCluster({ servers: ["nats://127.0.0.1:1"], node: "chat.1", port: 0, deliveryDeadlineMs: 1000, events: silentEvents })).rejects.toThrow("--node-name must be 1 to 64 letters, digits, - or _");
});
