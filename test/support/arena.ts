// One live in-process server with an honest group chatting through it, for the
// hostile tests: `await using arena = await openArena({...})`, attack
// arena.port, then `await arena.finish()` proves the invariants held, the
// server logged no bug, and memory stayed under the bound.

import type { Authority } from "../../src/core/authority.ts";
import type { LimitValues } from "../../src/protocol/limits.ts";
import { createLogger } from "../../src/core/log.ts";
import { startServer } from "../../src/server.ts";
import { HonestGroup, type HonestOptions } from "./honest.ts";
import { InvariantChecker } from "./invariants.ts";
import { rng, seedFromEnv } from "./prng.ts";

/** Limits that keep every hostile test short: small deadlines and a small slow-consumer cap. */
export const hostileLimits: Partial<LimitValues> = {
  registerTimeoutMs: 500,
  ackTimeoutMs: 1000,
  maxQueuedBytes: 256 * 1024,
};

/**
 * The RSS bound of the hostile tests: peak growth of this process (server,
 * honest group and attackers together) over the arena's start. Measured peaks
 * are at most ~36 MiB (a thousand connections, both ends in this process);
 * the two memory bugs these tests found grew it by 300+ MiB.
 */
const rssGrowthBoundMiB = 96;

export type ArenaOptions = {
  limits?: Partial<LimitValues>;
  names?: readonly string[];
  honest?: Partial<Omit<HonestOptions, "port" | "names" | "checker" | "rng">>;
  /** Peak RSS growth allowed over the arena's start, in MiB (default rssGrowthBoundMiB). */
  rssGrowthMiB?: number;
  /** Who may hold which name (accounts); default: nobody asked. */
  authority?: Authority;
  /** Serve HTTP (WebSocket at /ws) too, on port 0 (then `arena.server.httpPort`), with honest members over WebSocket beside those on TCP. */
  http?: boolean;
};

export async function openArena(options: ArenaOptions) {
  const seed = seedFromEnv("PARLEY_SEED", 0xa2e4a);
  const random = rng(seed);
  // Log lines at warn or above: errors are bugs (connection.bug), warnings are the server defending itself.
  const events: string[] = [];
  const write = (line: string) => void (events.length < 10_000 && events.push(line.trimEnd()));
  // The peak RSS of this process (server and clients together) while the arena runs.
  // From a collected heap: what earlier tests in this process left behind is not this arena's growth.
  Bun.gc(true);
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const rss = { sample: () => void (peak = Math.max(peak, process.memoryUsage.rss())) };
  const sampler = setInterval(rss.sample, 20);
  const server = startServer({ hostname: "127.0.0.1", port: 0, limits: { ...hostileLimits, ...options.limits }, events: createLogger({ level: "warn", format: "json", write }), authority: options.authority, http: options.http ? { port: 0 } : undefined });
  const checker = new InvariantChecker();
  const tcpNames = options.names ?? ["alice", "bob", "carol", "dave"];
  const webSocket = options.http ? { url: `ws://127.0.0.1:${server.httpPort}/ws`, names: ["erin", "frank"] } : undefined;
  const names = [...tcpNames, ...(webSocket?.names ?? [])];
  let group: HonestGroup;
  try {
    group = await HonestGroup.start({ port: server.port, names, single: [tcpNames[tcpNames.length - 1]!], webSocket, checker, rng: random, ...options.honest });
  } catch (error) {
    clearInterval(sampler);
    await server.stop();
    throw new Error(`${(error as Error).message} (PARLEY_SEED=${seed})`);
  }
  let finished = false;

  return {
    server,
    port: server.port,
    rng: random,
    group,
    rss,
    /** The server's log records (warn and above) of one event, parsed: `logged("connection.slow-consumer")`. */
    logged: (event: string): Record<string, unknown>[] => events.map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record.event === event),
    /** The honest users hold this many connections (two each on TCP, one the last TCP one, one each over WebSocket): the server holds nothing else. */
    honestConnections: () => tcpNames.length * 2 - 1 + (webSocket?.names.length ?? 0),
    /** Proves the invariants held, the server logged no bug and memory stayed under the bound; returns the peak RSS growth in MiB. */
    async finish(): Promise<number> {
      finished = true;
      const problems: string[] = [];
      await group.quiesce(5000).catch((error: Error) => problems.push(error.message));
      problems.push(...checker.verify(), ...group.faults);
      problems.push(...events.filter((e) => e.includes('"level":"error"')).map((e) => `server logged a bug: ${e}`));
      rss.sample();
      const growth = (peak - baseline) / 2 ** 20;
      const bound = options.rssGrowthMiB ?? rssGrowthBoundMiB;
      if (growth > bound) problems.push(`RSS grew by ${growth.toFixed(1)} MiB (peak ${(peak / 2 ** 20).toFixed(1)} MiB), over the ${bound} MiB bound`);
      if (checker.counts.sent === 0) problems.push("no honest SEND succeeded: the group was not served");
      // PARLEY_ARENA_STATS=1 prints what each arena saw, for choosing bounds.
      if (process.env.PARLEY_ARENA_STATS) console.error(`arena: ${checker.summary()}; peak RSS +${growth.toFixed(1)} MiB`);
      if (problems.length > 0) throw new Error(`PARLEY_SEED=${seed}: ${checker.summary()}\n  ${problems.slice(0, 20).join("\n  ")}`);
      return growth;
    },
    async [Symbol.asyncDispose](): Promise<void> {
      if (!finished) console.error(`arena not finished; PARLEY_SEED=${seed}: ${checker.summary()}`);
      void group.close();
      clearInterval(sampler);
      await server.stop();
    },
  };
}
