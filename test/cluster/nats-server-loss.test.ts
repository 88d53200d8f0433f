// One NATS server of three lost (docs/protocol.md D63-D65): three in-process
// nodes on a 3-server NATS cluster (the buckets then keep three copies), an
// honest group spread over them, and the server leading the nodes bucket
// SIGKILLed, the worst one to lose: JetStream elects a new leader meanwhile,
// and the nodes' heartbeats go through it. No node fences, no user is closed,
// delivery recovers, and registration comes back within a stated time.

import { expect, test } from "bun:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { namesBucket, nodesBucket } from "../../src/cluster/bus.ts";
import { defaultLeaseTimes } from "../../src/cluster/nodes.ts";
import { HonestGroup } from "../support/honest.ts";
import { InvariantChecker } from "../support/invariants.ts";
import { startNats, type NatsCluster } from "../support/nats.ts";
import { Peer, register } from "../support/peer.ts";
import { rng, seedFromEnv } from "../support/prng.ts";
import { eventually, testCluster } from "../support/server.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Which of the NATS servers leads the stream under `bucket` (startNats names them nats0, nats1, ...). */
async function leaderOf(nats: NatsCluster, bucket: string): Promise<number> {
  const nc = await connect({ servers: nats.urls.split(",") });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(`KV_${bucket}`);
    const leader = info.cluster?.leader ?? "";
    if (!/^nats\d$/.test(leader)) throw new Error(`no leader for ${bucket}: ${JSON.stringify(info.cluster)}`);
    return Number(leader.slice(4));
  } finally {
    await nc.close();
  }
}

/** Sends SEND `to` on `from` (a user on one connection), again at each ERROR 102, until SENT; resolves with when. It answers the FORWARDs it gets. */
function firstSent(from: Peer, to: string, deadlineMs: number): Promise<number> {
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  const timer = setTimeout(() => reject(new Error(`no SENT ${to} within ${deadlineMs} ms`)), deadlineMs);
  const send = () => from.send(`SEND ${to}\nContent-length: 2\n\nhi`);
  from.listen({
    message: ({ verb, arg }) => {
      if (verb === "SENT") {
        clearTimeout(timer);
        return resolve(performance.now());
      }
      if (verb === "ERROR" && arg.startsWith("102")) return send();
      if (verb === "FORWARD") return from.send(`RECEIVED ${arg}\n\n`);
      reject(new Error(`${from.label}: unexpected ${verb} ${arg}`));
    },
    garbled: (detail) => reject(new Error(detail)),
    closed: () => reject(new Error(`${from.label} closed`)),
  });
  send();
  return promise;
}

/** Registers `name` on `port`, again at each ERROR 106 (the bucket cannot take a write yet), until REGISTERED; resolves with when. */
async function firstRegistered(port: number, name: string, deadlineMs: number): Promise<number> {
  const peer = await Peer.connect(port, name);
  const deadline = performance.now() + deadlineMs;
  try {
    for (;;) {
      peer.send(`REGISTER TOSEND ${name}\n\n`);
      try {
        await peer.receives(`REGISTERED TOSEND ${name}\n\n`, deadline - performance.now());
        return performance.now();
      } catch (error) {
        await peer.receives("ERROR 106 Server busy\n\n", 0).catch(() => Promise.reject(error));
      }
      await Bun.sleep(25); // a retry delay, not synchronisation
    }
  } finally {
    peer.close();
  }
}

/** nats-server's raft: a follower waits 4 to 9 s for a lost leader before it campaigns, and campaigns for up to 0.8 s more. */
const electionWorstMs = 9000 + 800;

test("a node's lease outlasts a JetStream leader election, with a heartbeat to spare on each side", () => {
  // The last confirmed heartbeat may be a heartbeat older than the loss, and the first one after it a heartbeat late.
  expect(defaultLeaseTimes.fenceMs).toBeGreaterThan(electionWorstMs + 2 * defaultLeaseTimes.heartbeatMs);
  expect(defaultLeaseTimes.deadMs).toBeGreaterThan(defaultLeaseTimes.fenceMs);
});

test("a 3-server NATS cluster loses the server leading the nodes bucket under traffic: no node fences, no user is closed, delivery and registration recover", async () => {
  const seed = seedFromEnv("PARLEY_SEED", 0x3a75);
  console.log(`PARLEY_SEED=${seed}`);
  await using nats = await startNats(3);
  await using cluster = await testCluster(3, {}, { nats });
  const checker = new InvariantChecker();
  // No honest connection may be closed: a node that fenced would close them (onLoss "strict").
  using group = await HonestGroup.start({ port: cluster.ports[0]!, ports: cluster.ports, names: ["ann", "ben", "cat", "dan", "eve", "fay"], checker, rng: rng(seed) });
  await group.progress(100, 10_000);
  // Probes across the nodes, registered before the loss: one SENDs from node0 to node1, the other answers.
  const probe = await Peer.connect(cluster.ports[0]!, "probe");
  probe.send("REGISTER TOSEND probe\n\nREGISTER TORECV probe\n\n");
  await probe.receives("REGISTERED TOSEND probe\n\nREGISTERED TORECV probe\n\n");
  const far = await Peer.connect(cluster.ports[1]!, "far");
  await register(far, "TOSEND", "far");
  await register(far, "TORECV", "far");
  far.listen({ message: ({ verb, arg }) => verb === "FORWARD" && far.send(`RECEIVED ${arg}\n\n`), garbled: () => {}, closed: () => {} });

  const victim = await leaderOf(nats, nodesBucket);
  const [sentBefore, failedBefore] = [checker.counts.sent, checker.counts.failed];
  // The oldest lease any node had meanwhile: how near its fence the election took it (a measurement, not synchronisation).
  let oldestLease = 0;
  const sampler = setInterval(() => (oldestLease = Math.max(oldestLease, ...cluster.nodes.map((node) => node.leaseAgeMs()))), 50);
  const killedAt = performance.now();
  await nats.servers[victim]!.kill();
  const [sentAt, registeredAt] = await Promise.all([firstSent(probe, "far", 20_000), firstRegistered(cluster.ports[2]!, "newcomer", 20_000)]);
  await eventually(() => cluster.nodes.every((node) => node.leaseAgeMs() < defaultLeaseTimes.heartbeatMs), "every node's lease renewed", defaultLeaseTimes.fenceMs);
  const renewedAt = performance.now();
  clearInterval(sampler);
  await group.progress(500, 20_000);
  const moved = cluster.events.filter((log) => log.of("cluster.bus").length > 0).length;
  console.log(
    `one NATS server of 3 lost (nats${victim}, the nodes bucket's leader; ${moved} of 3 nodes were connected to it): first cross-node SENT ${seconds(sentAt - killedAt)}, first REGISTER ${seconds(registeredAt - killedAt)}, every lease renewed ${seconds(renewedAt - killedAt)} after the SIGKILL (oldest lease ${seconds(oldestLease)}, fence ${seconds(defaultLeaseTimes.fenceMs)}); ${checker.counts.sent - sentBefore} honest SENT and ${checker.counts.failed - failedBefore} ERROR 102 since`,
  );
  expect(cluster.events.flatMap((log) => log.of("cluster.fenced"))).toEqual([]);
  // Nobody was judged dead: not while JetStream elected a leader, not while a watch that lost its consumer was started again.
  expect(cluster.events.flatMap((log) => log.of("cluster.node")).filter(({ state }) => state !== "alive")).toEqual([]);
  await group.quiesce(5000);
  expect(checker.verify()).toEqual([]);
  expect(group.faults).toEqual([]);
  console.log(`honest group over the loss: ${checker.summary()}`);
  for (const peer of [probe, far]) peer.close();
}, 100_000);

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
