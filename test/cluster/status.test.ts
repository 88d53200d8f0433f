// A cluster node's state on /healthz and /metrics (docs/protocol.md D59): the
// node, whether it has NATS, how many nodes it sees, and 503 once it fenced,
// so a load balancer sends clients to a node that can serve them.

import { afterEach, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { startNats, type NatsCluster } from "../support/nats.ts";
import { testCluster } from "../support/server.ts";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

// Short leases: a fence in well under a second instead of 8 s.
const lease = { heartbeatMs: 100, fenceMs: 500, deadMs: 800, suspectMs: 300 };

type Health = { status: number; body: Record<string, unknown> };

/** /healthz, asked again until `done` holds (each answer is the event waited for), or the deadline. */
async function healthWhen(port: number, done: (health: Health) => boolean, deadlineMs = 5000): Promise<Health> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    const health = { status: response.status, body: (await response.json()) as Record<string, unknown> };
    if (done(health) || performance.now() > deadline) return health;
  }
}

test("/healthz and /metrics say the node, its bus and the live nodes; /healthz is 503 while fenced", async () => {
  const nats: NatsCluster = await startNats(1);
  stops.push(() => nats.stop());
  const cluster = await testCluster(2, {}, { nats, lease, http: true });
  stops.push(() => cluster.stop());
  const port = cluster.servers[0]!.httpPort!;
  const seen = await healthWhen(port, (health) => (health.body.cluster as { nodes: number } | undefined)?.nodes === 2);
  expect(seen).toEqual({ status: 200, body: { status: "ok", uptimeSeconds: expect.any(Number), connections: 0, users: 0, cluster: { node: "node0", connected: true, fenced: false, nodes: 2 } } });
  const metrics = parsePrometheusTextFormat(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const gauge = (name: string) => Number(metrics.find((family) => family.name === name)?.metrics[0]?.value);
  expect([gauge("parley_cluster_connected"), gauge("parley_cluster_fenced"), gauge("parley_cluster_nodes")]).toEqual([1, 0, 2]);

  await nats.servers[0]!.kill();
  const started = performance.now();
  const fenced = await healthWhen(port, (health) => health.status === 503);
  console.log(`fenced ${Math.round(performance.now() - started)} ms after NATS was killed (fenceMs ${lease.fenceMs})`);
  expect(fenced.body).toEqual({ status: "fenced", uptimeSeconds: expect.any(Number), cluster: { node: "node0", connected: false, fenced: true, nodes: expect.any(Number) } });
}, 20_000);
