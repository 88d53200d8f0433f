// One run's measurements, taken while its server runs: a load run's window
// (round trips, latency, CPU) or a registration run's users per second, and
// for scale the server's memory per user. bench/run.ts starts and stops the
// processes around them.

import type { GeneratorConfig } from "./load.ts";
import type { Options } from "./options.ts";
import { serverFdReserve, type Plan } from "./plans.ts";
import { childFdLimit, cpuSeconds, openFds, rssKiB } from "./proc.ts";
import { nextEvent, startAttacker, startGenerator, stopProcess, withDeadline, type Generator, type Relay } from "./processes.ts";
import type { Row } from "./report.ts";

const ms = (micros: number): number => Math.round(micros) / 1000;

export type Measured = Omit<Row, "repeat" | "scenario" | "label" | "target" | "transport">;

/** A process whose CPU a run reads from /proc over its window, as one of the servers. */
export type Watched = { name: string; pid: number };

export function runLoad(plan: Plan, config: GeneratorConfig, relay: Relay): Promise<Measured> {
  // The attacker registers while the honest users do and floods from the end
  // of their setup (its victim exists then), so the warmup and the window
  // both see the flood.
  const attacker = plan.attacker ? startAttacker(relay.port) : undefined;
  return measureWindow(config, startGenerator(config), [{ name: "server", pid: relay.proc.pid }], attacker);
}

/**
 * One load window of a generator already started (bench/generator.ts, or any
 * process printing its events): round trips, latency, its own CPU, and the
 * CPU of `servers` from /proc, added up as the servers' (with more than one,
 * each's µs per round trip too). Stops the generator and the attacker.
 */
export async function measureWindow(config: Pick<GeneratorConfig, "warmupMs" | "durationMs" | "drainMs" | "body">, generator: Generator, servers: readonly Watched[], attacker?: Generator): Promise<Measured> {
  const setupDeadline = 60_000;
  const step = () => {
    attacker?.proc.stdin.write("\n");
    attacker?.proc.stdin.flush();
  };
  const serversCpu = () => servers.map((server) => cpuSeconds(server.pid));
  try {
    if (attacker !== undefined && (await nextEvent(attacker, setupDeadline)).event !== "ready") throw new Error("attacker: expected ready");
    let event = await nextEvent(generator, setupDeadline);
    if (event.event !== "ready") throw new Error(`expected ready, got ${event.event}`);
    step();
    event = await nextEvent(generator, config.warmupMs + 10_000);
    if (event.event !== "start") throw new Error(`expected start, got ${event.event}`);
    step();
    const cpuStart = serversCpu();
    // The attacker's CPU as the server's, from /proc over the same window: on a small machine it is CPU the others lack.
    const attackerCpuStart = attacker === undefined ? 0 : cpuSeconds(attacker.proc.pid);
    const wallStart = performance.now();
    event = await nextEvent(generator, config.durationMs + 10_000);
    if (event.event !== "stop") throw new Error(`expected stop, got ${event.event}`);
    const cpu = serversCpu().map((seconds, i) => seconds - cpuStart[i]!);
    const serverCpu = cpu.reduce((sum, seconds) => sum + seconds, 0);
    const attackerCpu = attacker === undefined ? 0 : cpuSeconds(attacker.proc.pid) - attackerCpuStart;
    const wall = (performance.now() - wallStart) / 1000;
    attacker?.proc.stdin.end();
    const attacked = attacker === undefined ? undefined : await nextEvent(attacker, 10_000);
    if (attacked !== undefined && attacked.event !== "attacked") throw new Error(`attacker: expected attacked, got ${attacked.event}`);
    event = await nextEvent(generator, config.drainMs + 10_000);
    if (event.event !== "result") throw new Error(`expected result, got ${event.event}`);
    const latency = event.latencyMicros;
    const txPerSec = event.completed / (event.windowMs / 1000);
    const perTx = (seconds: number) => ((seconds / wall) * 1e6) / txPerSec;
    return {
      txPerSec,
      p50Ms: ms(latency.p50),
      p99Ms: ms(latency.p99),
      p999Ms: ms(latency.p999),
      serverCpuPct: (serverCpu / wall) * 100,
      generatorCpuPct: (event.cpuMicros / 1000 / event.windowMs) * 100,
      serverMicrosPerTx: perTx(serverCpu),
      completed: event.completed,
      errors: event.errors,
      ...(servers.length > 1 ? { processMicrosPerTx: Object.fromEntries(servers.map((server, i) => [server.name, perTx(cpu[i]!)])) } : {}),
      ...(config.body >= 4096 ? { mbPerSec: (txPerSec * config.body) / 1e6 } : {}),
      ...(attacked !== undefined ? { attackerSent: attacked.sent, attackerRefused: attacked.refused, attackerCpuPct: (attackerCpu / wall) * 100 } : {}),
      ...(event.abandoned > 0 ? { note: `${event.abandoned} round trips still in flight after the drain` } : {}),
    };
  } finally {
    await stopProcess(generator.proc);
    if (attacker !== undefined) await stopProcess(attacker.proc);
  }
}

/** scale and accounts: U users registered; scale also reads what they cost the server in memory. */
export async function runScale(plan: Plan, config: GeneratorConfig, relay: Relay, options: Pick<Options, "settleMs">): Promise<Measured> {
  const users = plan.users!;
  const pid = relay.proc.pid;
  const memory = plan.scenario === "scale";
  if (memory) await Bun.sleep(300);
  const rssBeforeKiB = rssKiB(pid);
  // Each generator process stays under the fd limit too.
  const perProcess = Math.floor((childFdLimit - serverFdReserve) / plan.config.connectionsPerUser);
  const processes = Math.ceil(users / perProcess);
  const generators: Generator[] = [];
  const cpuStart = cpuSeconds(pid);
  const wallStart = performance.now();
  try {
    for (let i = 0; i < processes; i++) {
      const offset = i * perProcess;
      const count = Math.min(perProcess, users - offset);
      const concurrency = Math.max(1, Math.round(plan.config.concurrency / processes));
      generators.push(startGenerator({ ...config, users: count, userOffset: offset, concurrency }));
    }
    const registered = await Promise.all(
      generators.map(async (generator) => {
        const event = await nextEvent(generator, 120_000);
        if (event.event !== "registered") throw new Error(`expected registered, got ${event.event}`);
        return event;
      }),
    );
    const serverCpu = cpuSeconds(pid) - cpuStart;
    const wall = (performance.now() - wallStart) / 1000;
    if (memory) await Bun.sleep(options.settleMs);
    const rssAfterKiB = rssKiB(pid);
    const start = Math.min(...registered.map((event) => event.startEpochMs));
    const end = Math.max(...registered.map((event) => event.endEpochMs));
    const generatorCpu = registered.reduce((sum, event) => sum + event.cpuMicros, 0) / 1e6;
    return {
      txPerSec: users / ((end - start) / 1000),
      serverMicrosPerTx: (serverCpu * 1e6) / users,
      p50Ms: null,
      p99Ms: null,
      p999Ms: null,
      serverCpuPct: (serverCpu / wall) * 100,
      generatorCpuPct: (generatorCpu / ((end - start) / 1000)) * 100,
      completed: users,
      errors: 0,
      ...(memory ? { rssBeforeKiB, rssAfterKiB, rssPerUserKiB: (rssAfterKiB - rssBeforeKiB) / users, serverFds: openFds(pid), generatorProcesses: processes } : {}),
      ...(plan.note ? { note: plan.note } : {}),
    };
  } finally {
    for (const generator of generators) generator.proc.stdin.end();
    await Promise.all(generators.map((generator) => withDeadline(generator.proc.exited, 10_000, "generator exit").catch(() => stopProcess(generator.proc))));
  }
}
