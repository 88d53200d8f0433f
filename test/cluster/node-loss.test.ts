// A node lost mid-transaction (docs/protocol.md D59, D60, D65): three `parley
// server --cluster` processes with the default lease times, an honest group
// spread over them, and one node SIGKILLed while SENDs wait on its users.
// What waited on it is answered ERROR 102 within the core-NATS suspect time,
// its names stay taken until the others see it dead and are free then, and
// presence on the other nodes says its users left; a node started again at
// once under the same name forgets its old users. Then nodes played by the
// test on its own NATS connection: one never heard on core NATS, one back on
// a new NATS connection.

import { expect, test } from "bun:test";
import { openBus } from "../../src/cluster/bus.ts";
import { defaultLeaseTimes } from "../../src/cluster/nodes.ts";
import { HonestGroup } from "../support/honest.ts";
import { InvariantChecker } from "../support/invariants.ts";
import { startNats, type NatsCluster } from "../support/nats.ts";
import { Peer, registered } from "../support/peer.ts";
import { rng, seedFromEnv } from "../support/prng.ts";
import { spawnServer } from "../support/process.ts";
import { eventually, testCluster } from "../support/server.ts";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** A user on `port` told of arrivals and departures (docs/protocol.md D52); it answers every FORWARD. */
async function watcher(port: number, name: string) {
  const sender = await Peer.connect(port, `${name}(send)`);
  const receiver = await Peer.connect(port, `${name}(recv)`);
  sender.send(`REGISTER TOSEND ${name}\n\n`);
  await sender.receives(`REGISTERED TOSEND ${name}\n\n`);
  receiver.send(`REGISTER TORECV ${name}\nExtensions: presence\n\n`);
  await receiver.receives(`REGISTERED TORECV ${name}\nExtensions: presence\nMax-Body-Bytes: 65536\n\n`);
  const offline = new Map<string, number>();
  const online = new Set<string>();
  receiver.listen({
    message: ({ verb, arg }) => {
      if (verb === "FORWARD") receiver.send(`RECEIVED ${arg}\n\n`);
      if (verb === "ONLINE") online.add(arg);
      if (verb === "OFFLINE") offline.set(arg, performance.now());
    },
    garbled: () => {},
    closed: () => {},
  });
  return { offline, online, close: () => [sender, receiver].forEach((peer) => peer.close()) };
}

test("SIGKILL a node mid-transaction: ERROR 102 within the suspect time, its names free after the dead time, presence says its users left", async () => {
  const seed = seedFromEnv("PARLEY_SEED", 0xdead);
  console.log(`PARLEY_SEED=${seed}`);
  await using nats = await startNats(1);
  const nodes = await Promise.all([0, 1, 2].map((i) => spawnServer(["--cluster", nats.urls, "--node-name", `n${i}`])));
  await using _nodes = { [Symbol.asyncDispose]: async () => void (await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()))) };
  const ports = nodes.map((node) => node.port);
  const checker = new InvariantChecker();
  // Members go to the nodes in turn: cat and fay are on n2, the node that dies.
  const names = ["ann", "ben", "cat", "dan", "eve", "fay"];
  const lost = ["cat", "fay"];
  const survivors = names.filter((name) => !lost.includes(name));
  // The killed node's users lose their connections to the kill, not to the server: nothing is owed on them.
  using group = await HonestGroup.start({ port: ports[0]!, ports, names, checker, rng: rng(seed), onLoss: "lenient" });
  const watching = await watcher(ports[0]!, "watcher");
  await group.progress(100, 10_000);

  // cat stops answering: SENDs and broadcasts from the other nodes wait on it, while fay, beside it on n2, still answers.
  group.member("cat").hold();
  await group.waitFor(() => checker.outstandingTo("cat", survivors) >= 2 && checker.outstandingTo("ALL", survivors) >= 1, 10_000, "SENDs from other nodes waiting on cat");
  group.broadcast = 0;
  const killedAt = performance.now();
  nodes[2]!.kill("SIGKILL");

  const waiting = () => [...lost, "ALL"].reduce((n, to) => n + checker.outstandingTo(to, survivors), 0);
  // The bound: a node silent on core NATS for suspectMs (after its last beat, at most a heartbeat before the kill) has what waits on it failed.
  const bound = defaultLeaseTimes.suspectMs + defaultLeaseTimes.heartbeatMs + 1000;
  await group.waitFor(() => waiting() === 0, bound, `every SEND waiting on the killed node answered (${[...lost, "ALL"].map((to) => `${to}: ${checker.outstandingTo(to, survivors)}`).join(", ")})`);
  const failedAfter = performance.now() - killedAt;
  console.log(`node lost: SENDs waiting on it answered ERROR 102 ${seconds(failedAfter)} after the SIGKILL (bound: suspect ${seconds(defaultLeaseTimes.suspectMs)} after its last beat)`);

  // Until the others see the node dead, its names are not handed out: its users may still be reachable for all anyone knows.
  const early = await Peer.connect(ports[0]!, "cat(early)");
  early.send("REGISTER TOSEND cat\n\n");
  await early.receives("ERROR 104 Username taken\n\n");
  early.close();

  // Each survivor judges by the last heartbeat it saw, so each sees n2 dead at its own moment; the name is free once one does.
  await Promise.all(nodes.slice(0, 2).map((node) => node.line("stderr", (line) => line.includes("cluster.node node=n2 state=dead"), defaultLeaseTimes.deadMs + 5000)));
  const deadAfter = performance.now() - killedAt;
  const taker = await registered(ports[1]!, "cat", "cat(new)");
  const freeAfter = performance.now() - killedAt;
  await group.waitFor(() => lost.every((name) => watching.offline.has(name)), 2000, "OFFLINE notices for the lost node's users");
  const offlineAfter = Math.max(...lost.map((name) => watching.offline.get(name)!)) - killedAt;
  console.log(`node lost: seen dead by both survivors ${seconds(deadAfter)}, its name registered on another node ${seconds(freeAfter)}, OFFLINE told ${seconds(offlineAfter)} after the SIGKILL (bound: dead ${seconds(defaultLeaseTimes.deadMs)} after its last heartbeat)`);

  // The survivors were served throughout, and every promise held.
  await group.progress(50, 10_000);
  await group.quiesce(10_000);
  expect(checker.verify()).toEqual([]);
  expect(group.faults).toEqual([]);
  expect(group.members.filter((member) => member.up).map((member) => member.name)).toEqual(survivors);
  console.log(`honest group over the node loss: ${checker.summary()}`);
  taker.close();
  watching.close();
}, 40_000);

const ghostLease = { heartbeatMs: 200, fenceMs: 1600, deadMs: 30_000, suspectMs: 400 };

/**
 * A node the test plays on its own NATS connection, as a node that froze would
 * look: its entry, its users' claims, and FORWARDs taken, answered "sent" only
 * for the users in `answering`. It beats on core NATS until frozen (if `beats`),
 * saying which connection it beats from: reconnect() makes it a new one.
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
  let connection = 0;
  const publish = () => bus.connection.publish("parley.node.ghost.beat", `ghost.${connection}`);
  const beat = beats ? setInterval(publish, ghostLease.heartbeatMs) : undefined;
  if (beats) publish();
  await bus.connection.flush();
  return {
    taken,
    freeze: () => clearInterval(beat),
    reconnect: () => {
      connection++;
      publish();
    },
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

test("a node SIGKILLed and started again at once under its name forgets the users it had: the others are told they left, their names are free", async () => {
  await using nats = await startNats(1);
  const cluster = ["--cluster", nats.urls];
  await using n0 = await spawnServer([...cluster, "--node-name", "n0"]);
  const n1 = await spawnServer([...cluster, "--node-name", "n1"]);
  const watching = await watcher(n0.port, "watcher");
  const ivy = await registered(n1.port, "ivy");
  await eventually(() => watching.online.has("ivy"), "ONLINE ivy on n0");
  n1.kill("SIGKILL");
  await n1.exit();
  // As a supervisor would: the same name, long before the others could see the old process dead.
  const restartedAt = performance.now();
  await using _restarted = await spawnServer([...cluster, "--node-name", "n1"]);
  await eventually(() => watching.offline.has("ivy"), "OFFLINE ivy on n0 once n1 is back", 5000);
  console.log(`node restarted under its name: its old users told offline elsewhere ${seconds(performance.now() - restartedAt)} after the restart began`);
  const taker = await registered(n0.port, "ivy", "ivy(new)");
  for (const peer of [ivy, taker]) peer.close();
  watching.close();
}, 30_000);

test("a SEND waiting on a node that comes back on a new NATS connection gets ERROR 102 at once: its answer may have been lost with the old one", async () => {
  // A suspect time long enough that only the new connection can explain an answer within the deadline.
  await using cluster = await testCluster(1, {}, { lease: { ...ghostLease, suspectMs: 20_000 } });
  await using ghost = await ghostNode(cluster.nats, ["Casper"], [], true);
  await cluster.events[0]!.next("cluster.node", ({ node, state }) => node === "ghost" && state === "alive");
  const alice = await registered(cluster.port, "alice");
  alice.send("SEND Casper\nContent-length: 2\n\nhi");
  await eventually(() => ghost.taken.length === 1, "the FORWARD taken by the node");
  const reconnectedAt = performance.now();
  ghost.reconnect();
  await alice.receives("ERROR 102 Unable to send\n\n", 2000);
  console.log(`a node back on a new NATS connection: what waited on it answered ERROR 102 ${seconds(performance.now() - reconnectedAt)} after its first beat from it`);
  alice.close();
}, 15_000);
