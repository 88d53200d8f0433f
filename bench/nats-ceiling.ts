// The cluster scenario's ceiling: NATS request/reply with nothing of parley
// around it. A cross-node SEND is one request from the sender's node to the
// recipient's (docs/protocol.md D60); here a responder answers each at once,
// and a requester keeps as many in flight as the cross-node run has SENDs.
// Both use the client library and the calls the courier uses: one connection
// each, a request with the `from` and `to` headers and a 64-byte body, the
// reply "sent". So its round trips/s is what the cross-node path could reach
// if parley cost nothing.
//
//   bun bench/nats-ceiling.ts respond NATS_URL       prints ready, answers until stdin ends
//   bun bench/nats-ceiling.ts request '<RequesterConfig as JSON>'
// print one JSON event per line on stdout, as bench/generator.ts does.

import { connect, headers } from "@nats-io/transport-node";
import { die, emit, stats } from "./load.ts";

export type RequesterConfig = {
  readonly url: string;
  /** Requests in flight at once: the cross-node run's senders times SENDs in flight per sender. */
  readonly inflight: number;
  readonly body: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly drainMs: number;
  readonly deadlineMs: number;
};

/** A node's FORWARD subject (docs/protocol.md D60), for a node called "ceiling". */
const subject = "parley.node.ceiling.forward";
const sent = new TextEncoder().encode("sent");
const decoder = new TextDecoder();

async function respond(url: string): Promise<void> {
  const setupStart = performance.now();
  const nc = await connect({ servers: url, name: "bench responder" });
  nc.subscribe(subject, { callback: (_error, msg) => void msg.respond(sent) });
  // One server: once it has answered this ping it routes requests to the subscription.
  await nc.flush();
  emit({ event: "ready", connections: 1, setupMs: performance.now() - setupStart });
  await Bun.stdin.text();
  await nc.close();
  process.exit(0);
}

async function request(config: RequesterConfig): Promise<void> {
  const setupStart = performance.now();
  const nc = await connect({ servers: config.url, name: "bench requester" });
  const body = new Uint8Array(config.body).fill(0x61);
  emit({ event: "ready", connections: 1, setupMs: performance.now() - setupStart });

  // Each worker is one request in flight at a time, as a SEND is until its SENT.
  let outstanding = 0;
  const worker = async (i: number) => {
    while (stats.phase !== "drain") {
      const started = performance.now();
      const head = headers();
      head.set("from", `s${i}`);
      head.set("to", `r${i}`);
      outstanding++;
      const ok = await nc.request(subject, body, { timeout: 10_000, headers: head }).then(
        (reply) => decoder.decode(reply.data) === "sent",
        () => false,
      );
      outstanding--;
      if (stats.phase !== "measure") continue;
      if (!ok) stats.errors++;
      else {
        stats.histogram.record((performance.now() - started) * 1000);
        stats.completed++;
      }
    }
  };
  const workers = Promise.all(Array.from({ length: config.inflight }, (_, i) => worker(i)));
  await Bun.sleep(config.warmupMs);

  stats.phase = "measure";
  emit({ event: "start" });
  const cpuStart = process.cpuUsage();
  const windowStart = performance.now();
  await Bun.sleep(config.durationMs);
  stats.phase = "drain";
  const windowMs = performance.now() - windowStart;
  const cpu = process.cpuUsage(cpuStart);
  emit({ event: "stop" });

  await Promise.race([workers, Bun.sleep(config.drainMs)]);
  const abandoned = outstanding;
  await nc.close();
  emit(
    {
      event: "result",
      completed: stats.completed,
      errors: stats.errors,
      windowMs,
      latencyMicros: stats.histogram.summary(),
      cpuMicros: cpu.user + cpu.system,
      abandoned,
    },
    () => process.exit(0),
  );
}

async function main(): Promise<void> {
  const [mode, argument] = process.argv.slice(2);
  if (mode === "respond" && argument !== undefined) return await respond(argument);
  if (mode !== "request" || argument === undefined) die("usage: bun bench/nats-ceiling.ts respond NATS_URL | request '<RequesterConfig as JSON>'");
  const config = JSON.parse(argument) as RequesterConfig;
  setTimeout(() => die(`deadline of ${config.deadlineMs} ms passed`), config.deadlineMs).unref();
  await request(config);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    try {
      die(error);
    } catch {
      // already reported
    }
  });
}
