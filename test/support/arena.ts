// One live in-process server with an honest group chatting through it, for the
// hostile tests: `await using arena = await openArena({...})`, attack
// arena.port, then `await arena.finish()` proves the invariants held, the
// server logged no bug, and memory stayed under the bound.

import type { LimitValues } from "../../src/protocol/limits.ts";
import { eventLevel, type EventSink } from "../../src/core/events.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { HonestGroup, type HonestOptions } from "./honest.ts";
import { InvariantChecker } from "./invariants.ts";
import { rng, seedFromEnv, type Rng } from "./prng.ts";

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
export const rssGrowthBoundMiB = 96;

/** The peak RSS of this process (server and clients together) while the arena runs. */
export class RssWatch {
  readonly baseline: number;
  #peak: number;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(everyMs = 20) {
    this.baseline = process.memoryUsage.rss();
    this.#peak = this.baseline;
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
    return rss;
  }

  /** Growth over the baseline at the peak, in MiB. */
  get peakGrowthMiB(): number {
    return (this.#peak - this.baseline) / 2 ** 20;
  }

  get peakMiB(): number {
    return this.#peak / 2 ** 20;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

export type ArenaOptions = {
  limits?: Partial<LimitValues>;
  names?: readonly string[];
  honest?: Partial<Omit<HonestOptions, "port" | "names" | "checker" | "rng">>;
  /** Peak RSS growth allowed over the arena's start, in MiB (default rssGrowthBoundMiB). */
  rssGrowthMiB?: number;
};

export type Arena = {
  readonly server: RunningServer;
  readonly port: number;
  readonly seed: number;
  readonly rng: Rng;
  readonly checker: InvariantChecker;
  readonly group: HonestGroup;
  readonly rss: RssWatch;
  /** Log events at warn or above, as "level event". */
  readonly events: string[];
  /** The honest users plus this many connections: the server holds nothing else. */
  honestConnections(): number;
  finish(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** Every event at warn or above; errors are bugs (connection.bug), warnings are the server defending itself. */
function capturingLogger(events: string[]): EventSink {
  const wants = (type: keyof typeof eventLevel) => eventLevel[type] === "error" || eventLevel[type] === "warn";
  return {
    wants,
    emit(event) {
      const { type, ...fields } = event;
      if (wants(type) && events.length < 10_000) events.push(`${eventLevel[type]} ${type} ${JSON.stringify(fields)}`);
    },
  };
}

export async function openArena(options: ArenaOptions): Promise<Arena> {
  const seed = seedFromEnv("PARLEY_SEED", 0xa2e4a);
  const random = rng(seed);
  const events: string[] = [];
  const rss = new RssWatch();
  const server = startServer({ hostname: "127.0.0.1", port: 0, limits: { ...hostileLimits, ...options.limits }, events: capturingLogger(events) });
  const checker = new InvariantChecker();
  const names = options.names ?? ["alice", "bob", "carol", "dave"];
  let group: HonestGroup;
  try {
    group = await HonestGroup.start({ port: server.port, names, single: [names[names.length - 1]!], checker, rng: random, ...options.honest });
  } catch (error) {
    rss.stop();
    await server.stop();
    throw new Error(`${(error as Error).message} (PARLEY_SEED=${seed})`);
  }
  const connections = names.length * 2 - 1;

  let finished = false;
  const finish = async (): Promise<void> => {
    finished = true;
    const problems: string[] = [];
    try {
      await group.quiesce(5000);
    } catch (error) {
      problems.push((error as Error).message);
    }
    problems.push(...checker.verify(), ...group.faults);
    problems.push(...events.filter((e) => e.startsWith("error ")).map((e) => `server logged a bug: ${e}`));
    rss.sample();
    const bound = options.rssGrowthMiB ?? rssGrowthBoundMiB;
    if (rss.peakGrowthMiB > bound) {
      problems.push(`RSS grew by ${rss.peakGrowthMiB.toFixed(1)} MiB (peak ${rss.peakMiB.toFixed(1)} MiB), over the ${bound} MiB bound`);
    }
    if (checker.counts.sent === 0) problems.push("no honest SEND succeeded: the group was not served");
    // PARLEY_ARENA_STATS=1 prints what each arena saw, for choosing bounds.
    if (process.env.PARLEY_ARENA_STATS) console.error(`arena: ${checker.summary()}; peak RSS +${rss.peakGrowthMiB.toFixed(1)} MiB`);
    if (problems.length > 0) {
      throw new Error(`PARLEY_SEED=${seed}: ${checker.summary()}\n  ${problems.slice(0, 20).join("\n  ")}`);
    }
  };

  return {
    server,
    port: server.port,
    seed,
    rng: random,
    checker,
    group,
    rss,
    events,
    honestConnections: () => connections,
    finish,
    async [Symbol.asyncDispose]() {
      if (!finished) console.error(`arena not finished; PARLEY_SEED=${seed}: ${checker.summary()}`);
      group.close();
      rss.stop();
      await server.stop();
    },
  };
}
