// The nodes' watches of the buckets when a NATS server of a cluster dies
// (docs/protocol.md D61): each is an ordered consumer of one replica, lost with
// the server that held it.

import { expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { namesBucket, nodesBucket } from "../../src/cluster/bus.ts";
import { Peer } from "../support/peer.ts";
import { testCluster } from "../support/server.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

test("a watch whose consumer vanished with its NATS server is started again: nobody is judged dead, new users are seen", async () => {
  const lease = { heartbeatMs: 200, fenceMs: 1600, deadMs: 2400, suspectMs: 400 };
  await using cluster = await testCluster(2, {}, { lease });
  const watcher = await Peer.connect(cluster.ports[0]!, "watcher");
  watcher.send("REGISTER TOSEND watcher\n\nREGISTER TORECV watcher\nExtensions: presence\n\n");
  await watcher.receives("REGISTERED TOSEND watcher\n\nREGISTERED TORECV watcher\nExtensions: presence\nMax-Body-Bytes: 65536\n\n");
  const since = cluster.events[0]!.events.length;
  // What losing the NATS server that held them does to the nodes' watches (each is an ordered consumer of one replica): they stop, silently.
  const nc = await connect({ servers: cluster.nats.urls.split(",") });
  const jsm = await jetstreamManager(nc);
  for (const bucket of [nodesBucket, namesBucket]) {
    for await (const consumer of jsm.consumers.list(`KV_${bucket}`)) await jsm.consumers.delete(`KV_${bucket}`, consumer.name);
  }
  await nc.close();
  const goneAt = performance.now();
  const late = await Peer.connect(cluster.ports[1]!, "late");
  late.send("REGISTER TOSEND late\n\nREGISTER TORECV late\n\n");
  await late.receives("REGISTERED TOSEND late\n\nREGISTERED TORECV late\n\n");
  await watcher.receives("ONLINE late\n\n", lease.deadMs);
  console.log(`watches lost: a user registered on another node seen ${seconds(performance.now() - goneAt)} after (heartbeat ${seconds(lease.heartbeatMs)})`);
  // Twice the dead time, and node1, beating all along, was never judged dead.
  await expect(cluster.events[0]!.next("cluster.node", ({ state }) => state === "dead", 2 * lease.deadMs, since)).rejects.toThrow("timed out");
  for (const peer of [watcher, late]) peer.close();
}, 20_000);
