// Names across nodes (docs/protocol.md D58): fifty clients on three nodes,
// each from its own address, race for one name while an honest group chats
// across the nodes; exactly one wins both roles, every other is told ERROR 104,
// and afterwards every node delivers to the winner.

import { expect, test } from "bun:test";
import { openBus } from "../../src/cluster/bus.ts";
import { HonestGroup } from "../support/honest.ts";
import { InvariantChecker } from "../support/invariants.ts";
import { Peer, registered, type ServerMessage } from "../support/peer.ts";
import { rng, seedFromEnv } from "../support/prng.ts";
import { testCluster } from "../support/server.ts";

const racers = 50;

/** One racer: two connections from its own address to one node, each asking for one role. */
async function racer(port: number, index: number) {
  const from = `127.0.0.${10 + index}`;
  const roles = await Promise.all(
    ["TOSEND", "TORECV"].map(async (role) => ({ role, peer: await Peer.connect(port, `racer${index}(${role})`, from), answer: undefined as ServerMessage | undefined, forwards: [] as ServerMessage[] })),
  );
  return { index, roles };
}

test("50 clients race for one name over 3 nodes: one wins both roles, the other 49 get ERROR 104, and every node then reaches the winner", async () => {
  const seed = seedFromEnv("PARLEY_SEED", 0x5ace);
  console.log(`PARLEY_SEED=${seed}`);
  await using cluster = await testCluster(3);
  const checker = new InvariantChecker();
  const group = await HonestGroup.start({ port: cluster.ports[0]!, ports: cluster.ports, names: ["ann", "ben", "cat", "dan", "eve", "fay"], checker, rng: rng(seed) });

  const all = await Promise.all(Array.from({ length: racers }, (_, i) => racer(cluster.ports[i % 3]!, i)));
  const answered = Promise.withResolvers<void>();
  let pending = racers * 2;
  for (const { roles } of all) {
    for (const each of roles) {
      each.peer.listen({
        message: (message) => {
          if (each.answer === undefined) each.answer = message;
          else if (message.verb !== "FORWARD") return answered.reject(new Error(`${each.peer.label}: ${message.verb} ${message.arg} after ${each.answer.verb} ${each.answer.arg}`));
          else {
            // The winner is a member like any other: the honest group's broadcasts reach it too.
            each.forwards.push(message);
            each.peer.send(`RECEIVED ${message.arg}\n\n`);
            return group.changed();
          }
          if (--pending === 0) answered.resolve();
        },
        garbled: (detail) => answered.reject(new Error(`${each.peer.label}: ${detail}`)),
        closed: () => answered.reject(new Error(`${each.peer.label} closed before its answer`)),
      });
    }
  }
  // Every REGISTER written in one turn, in a seeded order, so the nodes see them all at once and any racer may win.
  const order = rng(seed + 1);
  const writes = all.flatMap(({ roles }) => roles);
  for (let i = writes.length - 1; i > 0; i--) {
    const j = order.int(i + 1);
    [writes[i], writes[j]] = [writes[j]!, writes[i]!];
  }
  for (const { role, peer } of writes) peer.send(`REGISTER ${role} Prize\n\n`);
  await answered.promise;

  const answers = all.map(({ index, roles }) => ({ index, answers: roles.map(({ answer }) => `${answer!.verb} ${answer!.arg}`) }));
  const winners = answers.filter(({ answers }) => answers[0] === "REGISTERED TOSEND Prize" && answers[1] === "REGISTERED TORECV Prize");
  const others = answers.filter((each) => !winners.includes(each)).flatMap(({ answers }) => answers);
  expect(winners.length).toBe(1);
  // docs/protocol.md D58: a lost race is ERROR 104; ERROR 106 would mean the bus failed a claim, which it must not here.
  expect(others.filter((answer) => !answer.startsWith("ERROR 104"))).toEqual([]);
  console.log(`race: racer${winners[0]!.index} won on node${winners[0]!.index % 3}; ${others.length} roles refused ERROR 104`);
  const refused = cluster.events.flatMap((log) => log.of("cluster.claim-refused"));
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.every(({ user, why }) => user === "Prize" && why.length > 0)).toBe(true);

  // The honest group chatted through the race; it stops, so only the probes' messages travel now.
  await group.quiesce(5000);
  // The cluster agrees: a SEND from each node reaches the winner, under the checker's eye.
  const winner = all[winners[0]!.index]!;
  const { forwards } = winner.roles[1]!;
  const probes = () => forwards.filter(({ arg }) => arg.startsWith("probe"));
  for (const [node, port] of cluster.ports.entries()) {
    const name = `probe${node}`;
    const probe = await registered(port, name);
    const body = checker.body(name, new TextEncoder().encode(`from node${node}`));
    checker.send(name, name, "Prize", body);
    probe.send(`SEND Prize\nContent-length: ${body.length}\n\n`);
    probe.send(body);
    await group.waitFor(() => probes().length > node, 5000, `the winner's FORWARD from ${name}`);
    const forward = probes()[node]!;
    expect(forward.arg).toBe(name);
    checker.forward("Prize", forward.arg, forward.body);
    checker.received("Prize", forward.body);
    await probe.receives("SENT Prize\n\n");
    checker.reply(name, "SENT", "Prize");
    probe.close();
  }
  expect(checker.verify()).toEqual([]);
  expect(checker.counts.sent).toBeGreaterThan(checker.counts.failed);
  console.log(`honest group over 3 nodes during the race: ${checker.summary()}`);
  void group.close();
  for (const { roles } of all) for (const { peer } of roles) peer.close();
}, 30_000);

test("the second role of a user arriving at another node gets ERROR 104, and that node logs why", async () => {
  await using cluster = await testCluster(2);
  const [near, far] = cluster.ports;
  const sender = await Peer.connect(near!, "zoe(send)");
  sender.send("REGISTER TOSEND zoe\n\n");
  await sender.receives("REGISTERED TOSEND zoe\n\n");
  const stray = await Peer.connect(far!, "zoe(recv) at the other node");
  stray.send("REGISTER TORECV zoe\n\n");
  await stray.receives("ERROR 104 Username taken\n\n");
  const refusal = await cluster.events[1]!.next("cluster.claim-refused", ({ user }) => user === "zoe");
  expect(refusal).toEqual({ type: "cluster.claim-refused", user: "zoe", heldBy: "node0", why: "one role is held on another node: both roles of a user must reach the same node" });
  // The right node still completes the user.
  const receiver = await Peer.connect(near!, "zoe(recv)");
  receiver.send("REGISTER TORECV zoe\n\n");
  await receiver.receives("REGISTERED TORECV zoe\n\n");
  for (const peer of [sender, stray, receiver]) peer.close();
}, 15_000);

test("a user registering while broadcasts are under way, on its node and another, is told REGISTERED before any FORWARD, as on one server", async () => {
  await using cluster = await testCluster(2);
  // One loud user beside the newcomers, one on the other node: both broadcast while each newcomer registers.
  const loud = await Promise.all(cluster.ports.map((port, i) => registered(port, `loud${i}`)));
  for (const peer of loud) peer.listen({ message: () => {}, garbled: () => {}, closed: () => {} });
  for (let i = 0; i < 10; i++) {
    const name = `fresh${i}`;
    const sender = await Peer.connect(cluster.port, `${name}(send)`);
    const receiver = await Peer.connect(cluster.port, `${name}(recv)`);
    sender.send(`REGISTER TOSEND ${name}\n\n`);
    await sender.receives(`REGISTERED TOSEND ${name}\n\n`);
    // The completing REGISTER and bursts of broadcasts reach the nodes together: the claim waits on the bucket meanwhile.
    receiver.send(`REGISTER TORECV ${name}\n\n`);
    for (let j = 0; j < 20; j++) for (const peer of loud) peer.send("SEND ALL\nContent-length: 2\n\nhi");
    await receiver.receives(`REGISTERED TORECV ${name}\n\n`);
    sender.close();
    receiver.close();
  }
  for (const peer of loud) peer.close();
}, 15_000);

test("a name kept for an address past its grace is free on every node, even while the node that kept it lives", async () => {
  await using cluster = await testCluster(2);
  // The entry as node1 leaves it when its timer could not delete it (the bus was away then): kept, and expired.
  const bus = await openBus({ servers: cluster.nats.urls.split(","), node: "writer" });
  await bus.names.create("olive", new TextEncoder().encode(JSON.stringify({ name: "Olive", node: "node1", registered: false, keptFor: "127.0.0.9", until: Date.now() - 1000 })));
  await bus.connection.close();
  const olive = await registered(cluster.port, "olive");
  olive.close();
}, 15_000);
