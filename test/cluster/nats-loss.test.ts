// NATS lost under traffic (docs/protocol.md D59, D62): three in-process nodes
// on one nats-server (lease times a quarter of the defaults), an honest group spread over
// them, and the nats-server SIGKILLed and restarted twice: once for less than
// the fence time, once for longer. Local delivery keeps working, cross-node
// SENDs get ERROR 102 and registrations ERROR 106 at once, never a hang and
// never a false SENT; past the fence every node closes its users, who register
// again once NATS is back.

import { expect, test } from "bun:test";
import type { LeaseTimes } from "../../src/cluster/nodes.ts";
import { HonestGroup } from "../support/honest.ts";
import { InvariantChecker } from "../support/invariants.ts";
import { Peer, register, registered } from "../support/peer.ts";
import { rng, seedFromEnv } from "../support/prng.ts";
import { eventually, testCluster } from "../support/server.ts";

/**
 * The default times divided by four, so the longer outage takes 4 s, not 15:
 * what is measured (from the restart on) does not depend on them.
 */
const lease: LeaseTimes = { heartbeatMs: 250, suspectMs: 500, fenceMs: 3750, deadMs: 5000 };
/** The shorter outage: past the suspect time, well before the fence (docs/protocol.md D59). */
const outageMs = lease.suspectMs + 1000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const hi = "Content-length: 2\n\nhi";

/** Sends `SEND to` from `from` until one is answered SENT (each ERROR 102 is a new try at once); returns when. */
async function firstSent(from: Peer, to: string, deadlineMs: number): Promise<number> {
  const { promise, resolve, reject } = Promise.withResolvers<number>();
  const timer = setTimeout(() => reject(new Error(`no SENT ${to} within ${deadlineMs} ms`)), deadlineMs);
  let done = false;
  from.listen({
    message: ({ verb, arg }) => {
      if (done) return;
      if (verb === "SENT" && arg === to) return resolve(performance.now());
      if (verb === "ERROR" && arg.startsWith("102")) return from.send(`SEND ${to}\n${hi}`);
      reject(new Error(`${from.label}: unexpected ${verb} ${arg}`));
    },
    garbled: (detail) => reject(new Error(detail)),
    closed: () => reject(new Error(`${from.label} closed`)),
  });
  from.send(`SEND ${to}\n${hi}`);
  try {
    return await promise;
  } finally {
    done = true;
    clearTimeout(timer);
  }
}

/** A user on `port` told of arrivals and departures (docs/protocol.md D52) on its receiving connection, which answers every FORWARD. */
async function watcher(port: number, name: string) {
  const sender = await Peer.connect(port, `${name}(send)`);
  const receiver = await Peer.connect(port, `${name}(recv)`);
  await register(sender, "TOSEND", name);
  receiver.send(`REGISTER TORECV ${name}\nExtensions: presence\n\n`);
  await receiver.receives(`REGISTERED TORECV ${name}\nExtensions: presence\nMax-Body-Bytes: 65536\n\n`);
  const told: string[] = [];
  receiver.listen({
    message: ({ verb, arg }) => {
      if (verb === "FORWARD") receiver.send(`RECEIVED ${arg}\n\n`);
      if (verb === "ONLINE" || verb === "OFFLINE") told.push(`${verb} ${arg}`);
    },
    garbled: () => {},
    closed: () => {},
  });
  return { told, close: () => [sender, receiver].forEach((peer) => peer.close()) };
}

/** A user on two connections whose receiving one answers every FORWARD (the honest group's broadcasts reach it too); returns its sending one. */
async function user(port: number, name: string): Promise<Peer> {
  const sender = await Peer.connect(port, `${name}(send)`);
  const receiver = await Peer.connect(port, `${name}(recv)`);
  await register(sender, "TOSEND", name);
  await register(receiver, "TORECV", name);
  receiver.listen({ message: ({ verb, arg }) => verb === "FORWARD" && receiver.send(`RECEIVED ${arg}\n\n`), garbled: () => {}, closed: () => {} });
  sender.closed.then(() => receiver.close());
  return sender;
}

test("nats-server SIGKILLed and restarted under traffic, shorter and longer than the fence time", async () => {
  const seed = seedFromEnv("PARLEY_SEED", 0x7a75);
  console.log(`PARLEY_SEED=${seed}`);
  await using cluster = await testCluster(3, {}, { lease });
  const nats = cluster.nats.servers[0]!;
  const [node0, node1] = cluster.ports;
  const checker = new InvariantChecker();
  // Members lose their connections when their node fences: nothing is owed then, and they register again.
  using group = await HonestGroup.start({ port: node0!, ports: cluster.ports, names: ["ann", "ben", "cat", "dan", "eve", "fay"], checker, rng: rng(seed), onLoss: "lenient", reconnectForMs: 60_000 });
  await group.progress(100, 10_000);
  const since = cluster.events.map((log) => log.events.length);

  // --- NATS away for less than the fence time.
  const local = await user(node0!, "near");
  const remote = await user(node1!, "far");
  const sender = await user(node0!, "probe");
  const gone = await user(node1!, "gone");
  const watching = await watcher(node0!, "watcher");
  const [sentBefore, failedBefore] = [checker.counts.sent, checker.counts.failed];
  const killedAt = performance.now();
  await nats.kill();
  await Promise.all(cluster.events.map((log, i) => log.next("cluster.bus", ({ state }) => state === "disconnected", 5000, since[i])));
  console.log(`NATS lost: every node saw it ${seconds(performance.now() - killedAt)} after the SIGKILL`);
  sender.send(`SEND near\n${hi}`);
  await sender.receives("SENT near\n\n");
  let askedAt = performance.now();
  sender.send(`SEND far\n${hi}`);
  await sender.receives("ERROR 102 Unable to send\n\n", 1000);
  console.log(`NATS lost: local SEND delivered; cross-node SEND answered ERROR 102 after ${seconds(performance.now() - askedAt)}`);
  const newcomer = await Peer.connect(node0!, "newcomer");
  askedAt = performance.now();
  newcomer.send("REGISTER TOSEND newcomer\n\n");
  await newcomer.receives("ERROR 106 Server busy\n\n", 1000);
  console.log(`NATS lost: REGISTER answered ERROR 106 after ${seconds(performance.now() - askedAt)}`);
  // A user leaves while the bus is away: its node cannot delete its claim now.
  gone.close();
  // The honest members on one node keep reaching each other; the rest of their SENDs get ERROR 102 at once.
  await group.waitFor(() => checker.counts.sent > sentBefore + 20 && checker.counts.failed > failedBefore + 20, 5000, "local SENTs and cross-node ERROR 102s during the outage");
  // The outage lasts past the suspect time (every node has stopped hearing the others) and ends before the fence.
  await Bun.sleep(outageMs - (performance.now() - killedAt)); // the fault's length, not synchronisation
  expect(cluster.events.flatMap((log) => log.of("cluster.fenced"))).toEqual([]);
  const restartedAt = performance.now();
  await nats.restart();
  const recovered = await firstSent(sender, "far", 20_000);
  console.log(`NATS back within the fence: first cross-node SENT ${seconds(recovered - restartedAt)} after the restart (outage ${seconds(restartedAt - killedAt)})`);
  expect(cluster.events.flatMap((log) => log.of("cluster.fenced"))).toEqual([]);
  newcomer.send("REGISTER TOSEND newcomer\n\n");
  await newcomer.receives("REGISTERED TOSEND newcomer\n\n", 5000);
  // The user who left meanwhile is gone for every node once the bus is back, its name free, and the nodes still follow the bucket.
  await eventually(() => watching.told.includes("OFFLINE gone"), "OFFLINE gone on another node", 2000);
  const leftAfter = performance.now() - restartedAt;
  const again = await registered(node0!, "gone");
  const late = await user(node1!, "late");
  await eventually(() => watching.told.includes("ONLINE late"), "ONLINE late, registered on another node after the restart", 5000);
  console.log(`NATS back within the fence: a user who left during the outage is gone for the other nodes ${seconds(leftAfter)} after the restart`);
  for (const peer of [local, remote, sender, newcomer, again, late]) peer.close();
  await group.progress(50, 10_000);
  // The next outage starts from leases just renewed, as in steady running: each node confirms one every heartbeat.
  await eventually(() => cluster.nodes.every((node) => node.leaseAgeMs() < lease.heartbeatMs), "every node's lease renewed after the restart", 5000);

  // --- NATS away for longer than the fence time: every node stops serving the names it can no longer prove.
  const fencedSince = cluster.events.map((log) => log.events.length);
  const longKilledAt = performance.now();
  await nats.kill();
  await Promise.all(cluster.events.map((log, i) => log.next("cluster.fenced", () => true, lease.fenceMs + 5000, fencedSince[i])));
  const fencedAfter = performance.now() - longKilledAt;
  await group.waitFor(() => group.members.every((member) => !member.up), 5000, "every member closed by its fenced node");
  const refused = await Peer.connect(node1!, "refused");
  refused.send("REGISTER TOSEND refused\n\n");
  await refused.receives("ERROR 106 Server busy\n\n", 1000);
  refused.close();
  console.log(`NATS lost past the fence: every node fenced ${seconds(fencedAfter)} after the SIGKILL (bound: ${seconds(lease.fenceMs)} after the last confirmed heartbeat), its users closed, REGISTER ERROR 106`);
  const longRestartedAt = performance.now();
  await nats.restart();
  await Promise.all(cluster.events.map((log, i) => log.next("cluster.unfenced", () => true, 10_000, fencedSince[i])));
  const unfencedAfter = performance.now() - longRestartedAt;
  // Each member tries again every few milliseconds: once its node serves, nothing else should hold it back.
  await group.waitFor(() => group.allUp, 2000, "every member registered again");
  const rejoinedAfter = performance.now() - longRestartedAt;
  const back = await user(node0!, "back");
  await user(node1!, "there");
  const sentAfter = (await firstSent(back, "there", 10_000)) - longRestartedAt;
  console.log(`NATS back after the fence: every node serving ${seconds(unfencedAfter)}, the honest group registered again ${seconds(rejoinedAfter)}, first cross-node SENT ${seconds(sentAfter)} after the restart (outage ${seconds(longRestartedAt - longKilledAt)})`);

  await group.progress(50, 10_000);
  await group.quiesce(10_000);
  expect(checker.verify()).toEqual([]);
  expect(group.faults).toEqual([]);
  console.log(`honest group over both outages: ${checker.summary()}`);
  watching.close();
}, 60_000);
