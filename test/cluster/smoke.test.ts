import { afterEach, expect, test } from "bun:test";
import { joinCluster } from "../../src/cluster/node.ts";
import { silentEvents } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { startNats, type NatsCluster } from "../support/nats.ts";
import { registered } from "../support/peer.ts";

let nats: NatsCluster | undefined;
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  await nats?.stop();
});

async function node(urls: string, name: string) {
  const events = createLogger({ level: "debug", format: "text", write: (line) => process.stderr.write(`[${name}] ${line}`) });
  const cluster = await joinCluster({ servers: urls.split(","), node: name, port: 0, deliveryDeadlineMs: 20_000, events });
  const server = startServer({ port: 0, cluster, events });
  servers.push(server);
  return server;
}

test("a user on one node chats with a user on another", async () => {
  nats = await startNats(1);
  const a = await node(nats.urls, "a");
  const b = await node(nats.urls, "b");
  const alice = await registered(a.port, "alice");
  const bob = await registered(b.port, "bob");
  alice.send("SEND bob\nContent-length: 2\n\nhi");
  await bob.receives("FORWARD alice\nContent-length: 2\n\nhi");
  bob.send("RECEIVED alice\n\n");
  await alice.receives("SENT bob\n\n");
  void silentEvents;
  expect(1).toBe(1);
}, 20000);
