// The load generator, run as its own process by bench/run.ts. It speaks
// PROTOCOL.md to parley with the project's Framer and Outbox (one write() per
// turn), or drives a raw baseline relay with fixed-size records, with the
// same loop for both. Like real clients, two TCP connections per user, or
// one WebSocket.
//
//   bun bench/generator.ts '<GeneratorConfig as JSON>'
// prints one JSON event per line on stdout: ready, start, stop, result (load
// scenarios) or registered (scale and accounts, which then hold their users
// until stdin ends).

import { Role } from "../src/protocol/messages.ts";
import { clients } from "./connection.ts";
import { die, emit, epochMs, pool, stats, userName, type GeneratorConfig } from "./load.ts";
import { connectParley, register, registerUser, setupParley } from "./load-parley.ts";
import { joinRaw, setupRaw } from "./load-raw.ts";
import { RawKind } from "./raw-wire.ts";

async function runLoad(config: GeneratorConfig): Promise<void> {
  const setupStart = performance.now();
  const pumps = config.target === "parley" ? await setupParley(config) : await setupRaw(config);
  emit({ event: "ready", connections: clients.length, setupMs: performance.now() - setupStart });

  for (const pump of pumps) pump.fill();
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

  const drainEnd = performance.now() + config.drainMs;
  const outstanding = () => pumps.reduce((sum, pump) => sum + pump.outstanding, 0);
  while (outstanding() > 0 && performance.now() < drainEnd) await Bun.sleep(5);

  for (const client of clients) client.end();
  emit(
    {
      event: "result",
      completed: stats.completed,
      errors: stats.errors,
      windowMs,
      latencyMicros: stats.histogram.summary(),
      cpuMicros: cpu.user + cpu.system,
      abandoned: outstanding(),
    },
    () => process.exit(0),
  );
}

async function runScale(config: GeneratorConfig): Promise<void> {
  const startEpochMs = epochMs();
  const cpuStart = process.cpuUsage();
  await pool(config.users, config.concurrency, async (i) => {
    const id = config.userOffset + i;
    const name = userName(id);
    if (config.connectionsPerUser === 2) {
      if (config.target === "parley") await registerUser(config, name, { sending: [], receiving: [] });
      else await Promise.all([joinRaw(config, RawKind.Idle, id), joinRaw(config, RawKind.Idle, id)]);
    } else if (config.target === "parley") {
      const client = await connectParley(config, []);
      await register(client, Role.ToSend, name);
      await register(client, Role.ToRecv, name);
    } else {
      await joinRaw(config, RawKind.Idle, id);
    }
  });
  const endEpochMs = epochMs();
  const cpu = process.cpuUsage(cpuStart);
  emit({ event: "registered", users: config.users, connections: clients.length, startEpochMs, endEpochMs, cpuMicros: cpu.user + cpu.system });
  // Hold every user until the orchestrator has read the server's memory and closes our stdin.
  await Bun.stdin.text();
  for (const client of clients) client.end();
  setTimeout(() => process.exit(0), 50);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as GeneratorConfig;
  setTimeout(() => die(`deadline of ${config.deadlineMs} ms passed`), config.deadlineMs).unref();
  await (config.kind === "scale" ? runScale(config) : runLoad(config));
}

main().catch((error: unknown) => {
  try {
    die(error);
  } catch {
    // already reported
  }
});
