// What a bench run measures: one plan per (scenario, parameter) from the
// options, each with the generator config and the server limits it needs.

import type { GeneratorConfig } from "./load.ts";
import type { Options, Scenario, Transport } from "./options.ts";
import { childFdLimit } from "./proc.ts";
import type { ServerLimits } from "./processes.ts";
import { connectionCap } from "../src/server.ts";

export type Plan = {
  scenario: Scenario;
  label: string;
  /** attack: this run has the attacker (bench/attacker.ts) flooding one honest receiver. */
  attacker?: boolean;
  /** closed and pipelined: this run's transport, when not plain TCP (bench/run.ts runs each of --transport). */
  transport?: Transport;
  /** accounts: this run's server has an accounts file with every user, who registers with the password. */
  accounts?: boolean;
  config: Omit<GeneratorConfig, "target" | "port">;
  limits: ServerLimits;
  /** scale and accounts runs: users in this run. */
  users?: number;
  note?: string;
};

function baseConfig(options: Options): Omit<GeneratorConfig, "target" | "port"> {
  return {
    kind: "unicast",
    pairs: 1,
    inflight: 1,
    body: options.body,
    receivers: 0,
    users: 0,
    userOffset: 0,
    connectionsPerUser: 2,
    concurrency: options.concurrency,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    drainMs: 3000,
    decoder: options.decoder,
    answersAttacker: false,
    deadlineMs: options.warmupMs + options.durationMs + 120_000,
  };
}

// The server's own fds besides client sockets (listener, epoll, stdio, ...), plus a margin.
export const serverFdReserve = 64;

export function plans(options: Options): Plan[] {
  const base = baseConfig(options);
  const out: Plan[] = [];
  for (const scenario of options.scenarios) {
    switch (scenario) {
      case "closed":
        for (const pairs of options.pairs) out.push({ scenario, label: `closed N=${pairs}`, config: { ...base, pairs, inflight: 1 }, limits: {} });
        break;
      case "pipelined":
        for (const pairs of options.pairs) {
          out.push({
            scenario,
            label: `pipelined N=${pairs} x${options.inflight}`,
            config: { ...base, pairs, inflight: options.inflight },
            limits: options.inflight > 1024 ? { maxPendingForwards: options.inflight } : {},
          });
        }
        break;
      case "broadcast":
        for (const receivers of options.receivers) {
          out.push({ scenario, label: `broadcast M=${receivers}`, config: { ...base, kind: "broadcast", receivers, inflight: 1, durationMs: options.broadcastDurationMs, deadlineMs: base.deadlineMs + options.broadcastDurationMs }, limits: {} });
        }
        break;
      case "scale":
        for (const users of options.users) {
          // Two connections per user: the server holds 2U sockets, and takes at most
          // its connection cap, which stays a reserve below the fd limit (docs/protocol.md
          // D33). If that cannot hold 2U, run as many users as fit, and U users on one connection each.
          const fit = Math.floor(Math.min(childFdLimit - serverFdReserve, connectionCap(childFdLimit)) / 2);
          const scale = { ...base, kind: "scale" as const, durationMs: 0, warmupMs: 0 };
          if (users <= fit) {
            out.push({ scenario, label: `scale U=${users}`, config: { ...scale, users }, limits: {}, users });
          } else {
            const note = `fd limit ${childFdLimit} fits ${fit} users with two connections`;
            out.push({ scenario, label: `scale U=${fit} (fd cap)`, config: { ...scale, users: fit }, limits: {}, users: fit, note });
            out.push({ scenario, label: `scale U=${users} 1conn`, config: { ...scale, users, connectionsPerUser: 1 }, limits: {}, users, note: "both roles on one connection" });
          }
        }
        break;
      case "large":
        for (const body of options.largeBodies) {
          out.push({
            scenario,
            label: `large ${body >= 1024 ? `${body / 1024}KiB` : `${body}B`} x${options.inflight}`,
            config: { ...base, pairs: 1, inflight: options.inflight, body },
            limits: {
              ...(body > 65536 ? { maxBodyBytes: body } : {}),
              ...(options.inflight * (body + 128) * 2 > 8 * 2 ** 20 ? { maxQueuedBytes: options.inflight * (body + 128) * 2 } : {}),
            },
          });
        }
        break;
      case "attack": {
        // One N, closed loop as in `closed`: each N is two runs, and what is
        // measured is what the attacker costs the honest pairs. parley only:
        // the raw relay has no shares. The server keeps its default shares
        // and rates, the things under test (so the quiet run is capped by the
        // rate too: ~1000 round trips/s per pair); the raised address caps
        // stay, as the honest generator is one address.
        const pairs = options.pairs[0]!;
        const config = { ...base, pairs, inflight: 1, answersAttacker: true };
        const defaults = { maxShareBytes: "default", rateMessages: "default", burstMessages: "default", rateBytes: "default", burstBytes: "default" } as const;
        if (options.targets.includes("parley")) out.push({ scenario, label: `attack N=${pairs}`, config, limits: defaults });
        break;
      }
      case "cluster":
        // docs/protocol.md D71: each unicast plan runs same-node, cross-node and on bare NATS; each broadcast
        // plan on one node and spread over three (bench/cluster.ts). The fairness limits stay raised, as in closed.
        for (const mode of ["closed", "pipelined"] as const) {
          const inflight = mode === "closed" ? 1 : options.inflight;
          for (const pairs of options.pairs) out.push({ scenario, label: `cluster ${mode} N=${pairs}${mode === "closed" ? "" : ` x${inflight}`}`, config: { ...base, pairs, inflight }, limits: {} });
        }
        for (const receivers of options.clusterReceivers) {
          const broadcast = { ...base, kind: "broadcast" as const, receivers, durationMs: options.broadcastDurationMs, deadlineMs: base.deadlineMs + options.broadcastDurationMs };
          out.push({ scenario, label: `cluster broadcast M=${receivers}`, config: broadcast, limits: {} });
        }
        break;
      case "accounts":
        // Each U is two runs, without and with accounts; parley only. Two users
        // in flight, from the one address: the server checks one password at a
        // time and lets an address have one check running and one waiting
        // (docs/protocol.md D42), a third being ERROR 106. Two keep its checker
        // busy, the next check waiting while one runs, so more addresses
        // would not register faster. The run without accounts has the same two.
        for (const users of options.accountUsers) {
          const config = { ...base, kind: "scale" as const, users, concurrency: 2, durationMs: 0, warmupMs: 0 };
          if (options.targets.includes("parley")) out.push({ scenario, label: `accounts U=${users}`, config, limits: {}, users });
        }
        break;
    }
  }
  return out;
}
