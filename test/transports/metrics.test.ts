// /metrics (Prometheus text format 0.0.4): parsed by a Prometheus text parser,
// and counting what happened, including events the log rate-limited away.

import { afterEach, expect, test } from "bun:test";
import parse from "parse-prometheus-text-format";
import { createLogger } from "../../src/core/log.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { Peer, registered } from "../support/peer.ts";

const servers: RunningServer[] = [];
const peers: Peer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function metrics(server: RunningServer) {
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const families = parse(await response.text());
  const value = (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((each) => each.name === name);
    const sample = family?.metrics.find((each) => Object.entries(labels).every(([key, v]) => each.labels?.[key] === v));
    return sample === undefined ? undefined : Number(sample.value ?? sample.count);
  };
  return { families, value };
}

test("exposes connections by transport, names, SENDs by outcome, FORWARDs, bytes, receipt latency and process figures", async () => {
  const server = startServer({ hostname: "127.0.0.1", port: 0, http: { port: 0 } });
  servers.push(server);
  const alice = await registered(server.port, "alice");
  const bob = await registered(server.port, "bob");
  peers.push(alice, bob);
  alice.send("SEND bob\nContent-length: 2\n\nhiSEND nobody\nContent-length: 1\n\nx");
  await bob.receives("FORWARD alice\nContent-length: 2\n\nhi");
  bob.send("RECEIVED alice\n\n");
  await alice.receives("SENT bob\n\nERROR 102 Unable to send\n\n");
  const { families, value } = await metrics(server);
  expect(value("parley_connections", { transport: "tcp" })).toBe(2);
  expect(value("parley_names_held")).toBe(2);
  expect(value("parley_sends_total", { outcome: "sent" })).toBe(1);
  expect(value("parley_sends_total", { outcome: "failed" })).toBe(1);
  expect(value("parley_forwards_total")).toBe(1);
  expect(value("parley_bytes_total", { direction: "in" })).toBeGreaterThan(0);
  expect(value("parley_bytes_total", { direction: "out" })).toBeGreaterThan(0);
  const receipt = families.find((each) => each.name === "parley_receipt_seconds");
  expect(receipt?.type).toBe("HISTOGRAM");
  expect(Number(receipt?.metrics[0]?.count)).toBe(1);
  // Cumulative: never decreasing, and the widest bucket holds the one SENT.
  // By bound: an object puts integer-like keys ("10", "30") first, whatever the text's order.
  const buckets = Object.entries(receipt?.metrics[0]?.buckets ?? {})
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, count]) => Number(count));
  expect(buckets.length).toBeGreaterThan(5);
  expect(buckets.every((count, i) => i === 0 || count >= buckets[i - 1]!)).toBe(true);
  expect(buckets.at(-1)).toBe(1);
  expect(value("process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
  expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
});

test("counts protocol errors by reason and fairness actions, also what the log's rate limit kept out", async () => {
  const lines: string[] = [];
  const server = startServer({
    hostname: "127.0.0.1",
    port: 0,
    http: { port: 0 },
    limits: { maxConnectionsPerAddress: 2 },
    trustPlaintext: [],
    events: createLogger({ level: "info", format: "text", linesPerSecond: 1, reportAfterMs: 60_000, write: (line) => void lines.push(line) }),
  });
  servers.push(server);
  const garbled = await Peer.connect(server.port, "garbled", "127.0.0.9");
  garbled.send("HELLO there\n\n");
  await garbled.receives("ERROR 103 Header incomplete\n\n");
  const crowd = await Promise.all(Array.from({ length: 4 }, (_, i) => Peer.connect(server.port, `crowd${i}`, "127.0.0.10")));
  peers.push(garbled, ...crowd);
  for (const extra of crowd.slice(2)) await extra.receives("ERROR 106 Server busy\n\n");
  // One connection causing 30 refusals: the log lets ten seconds' worth (10) through.
  const guesser = crowd[0]!;
  guesser.send("REGISTER TOSEND alice\nPassword: in clear\n\n".repeat(30));
  await guesser.receives("ERROR 105 Not authorized\n\n".repeat(30));
  const { value } = await metrics(server);
  expect(value("parley_protocol_errors_total", { reason: "unknown-verb" })).toBe(1);
  expect(value("parley_fairness_actions_total", { action: "refused-address-full" })).toBe(2);
  expect(value("parley_auth_refused_total", { reason: "plaintext" })).toBe(30);
  expect(lines.filter((line) => line.includes("auth.refused"))).toHaveLength(10);
});
