// Nodes lost (docs/protocol.md D57, D58): what waits on a node that died or
// froze is answered ERROR 102 within the core-NATS suspect time.

import { expect, test } from "bun:test";
import { openBus } from "../../src/cluster/bus.ts";
import type { NatsCluster } from "../support/nats.ts";
import { registered } from "../support/peer.ts";
import { eventually, testCluster } from "../support/server.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const ghostLease = { heartbeatMs: 200, fenceMs: 1600, deadMs: 30_000, suspectMs: 400 };

/**
 * A node the test plays on its own NATS connection, as a node that froze would
 * look: its entry, its users' claims, and FORWARDs taken, answered "sent" only
 * for the users in `answering`. It beats on core NATS until frozen (if `beats`).
 */
async function ghostNode(nats: NatsCluster, users: readonly string[], answering: readonly string[], beats: boolean) {
  const bus = await openBus({ servers: nats.urls.split(","), node: "ghost" });
  const json = (value: object) => new TextEncoder().encode(JSON.stringify(value));
  await bus.nodes.create("ghost", json({ node: "ghost", at: Date.now() }));
  for (const name of users) await bus.names.create(name.toLowerCase(), json({ name, node: "ghost", registered: true }));
  const taken: string[] = [];
  bus.connection.subscribe("parley.node.ghost.forward", {
    callback: (_error, msg) => {
      const to = msg.headers?.get("to") ?? "";
      taken.push(to);
      if (answering.includes(to)) msg.respond(new TextEncoder().encode("sent"));
    },
  });
  const beat = beats ? setInterval(() => bus.connection.publish("parley.node.ghost.beat"), ghostLease.heartbeatMs) : undefined;
  await bus.connection.flush();
  return {
    taken,
    freeze: () => clearInterval(beat),
    [Symbol.asyncDispose]: async () => {
      clearInterval(beat);
      await bus.connection.close();
    },
  };
}

test("a node that died before its first beat on core NATS is suspected all the same: what waits on it gets ERROR 102 after the suspect time", async () => {
  await using cluster = await testCluster(1, {}, { lease: ghostLease });
  await using ghost = await ghostNode(cluster.nats, ["Casper"], [], false);
  await cluster.events[0]!.next("cluster.node", ({ node, state }) => node === "ghost" && state === "alive");
  const alice = await registered(cluster.port, "alice");
  const sentAt = performance.now();
  alice.send("SEND Casper\nContent-length: 2\n\nhi");
  // Without a suspect clock for it, this would wait for deadMs (30 s) or the request timeout (22 s).
  await alice.receives("ERROR 102 Unable to send\n\n", ghostLease.suspectMs + 2000);
  console.log(`a node never heard on core NATS: ERROR 102 after ${seconds(performance.now() - sentAt)} (suspect ${seconds(ghostLease.suspectMs)})`);
  expect(ghost.taken).toEqual(["Casper"]);
  alice.close();
}, 15_000);

test("a broadcast waiting on a node that froze after one of its users answered gets ERROR 102 after the suspect time", async () => {
  await using cluster = await testCluster(1, {}, { lease: ghostLease });
  await using ghost = await ghostNode(cluster.nats, ["Casper", "Wendy"], ["Wendy"], true);
  await cluster.events[0]!.next("cluster.node", ({ node, state }) => node === "ghost" && state === "alive");
  const alice = await registered(cluster.port, "alice");
  alice.send("SEND ALL\nContent-length: 2\n\nhi");
  await eventually(() => ghost.taken.length === 2, "both FORWARDs taken by the node");
  const frozenAt = performance.now();
  ghost.freeze();
  // Wendy's answer must not make the node forget that the broadcast still waits on it for Casper.
  await alice.receives("ERROR 102 Unable to send\n\n", ghostLease.suspectMs + 2000);
  console.log(`a broadcast waiting on a frozen node: ERROR 102 after ${seconds(performance.now() - frozenAt)} (suspect ${seconds(ghostLease.suspectMs)})`);
  alice.close();
}, 15_000);
