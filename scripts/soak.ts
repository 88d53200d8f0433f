// The soak: `bun run soak -- --minutes N`. Spawns `parley server` as a process,
// runs an honest group (pipelined unicast and broadcast, with churn) beside a
// rotation of hostile clients, and every 10 s prints the server's RSS, its open
// connections, honest transactions per second and invariant violations. Exits
// non-zero on any violation, a server bug in its log, a crash or RSS over the bound.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { HonestGroup } from "../test/support/honest.ts";
import { InvariantChecker } from "../test/support/invariants.ts";
import { rng, randomSeed, type Rng } from "../test/support/prng.ts";
import { spawnServer } from "../test/support/process.ts";
import * as attack from "../test/support/attackers.ts";
import { Peer, registered } from "../test/support/peer.ts";

type Options = { minutes: number; seed: number; users: number; rssLimitMiB: number; reportSeconds: number };

function parseArgs(argv: string[]): Options {
  const options: Options = { minutes: 10, seed: randomSeed(), users: 8, rssLimitMiB: 256, reportSeconds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--help") {
      process.stdout.write(`Usage: bun run soak -- [--minutes ${options.minutes}] [--seed N] [--users ${options.users}] [--rss-limit-mib ${options.rssLimitMiB}] [--report-seconds ${options.reportSeconds}]\n`);
      process.exit(0);
    }
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${flag} needs a number, got ${JSON.stringify(argv[i])}`);
    if (flag === "--minutes") options.minutes = value;
    else if (flag === "--seed") options.seed = value >>> 0;
    else if (flag === "--users") options.users = Math.max(2, Math.floor(value));
    else if (flag === "--rss-limit-mib") options.rssLimitMiB = value;
    else if (flag === "--report-seconds") options.reportSeconds = Math.max(1, value);
    else throw new Error(`unknown flag ${flag} (--minutes, --seed, --users, --rss-limit-mib, --report-seconds)`);
  }
  return options;
}

// Limits small enough that every defence fires often within minutes; the
// fairness limits (docs/protocol.md §6) keep their defaults but the deadlines.
const limits = {
  ackTimeoutMs: 3000,
  deliveryDeadlineMs: 4000,
  writeDeadlineMs: 6000,
  registerTimeoutMs: 1500,
  maxQueuedBytes: 1024 * 1024,
  maxHeaderBytes: 8192,
  maxNamesPerAddress: 32,
};

/** The hostile rotation: each entry attacks once and throws if the server did not defend itself as documented. */
function attacks(port: number, r: Rng, next: () => number): Record<string, () => Promise<unknown>> {
  const n = () => `x${next()}`;
  return {
    garbage: () => attack.garbage(port, r, { name: r.chance(0.5) ? n() : undefined, deadlineMs: 10_000 }),
    endlessHeader: () => attack.endlessHeader(port, { maxHeaderBytes: limits.maxHeaderBytes, name: r.chance(0.5) ? n() : undefined, deadlineMs: 10_000 }),
    hugeLength: () => attack.hugeLength(port, { name: r.chance(0.5) ? n() : undefined, deadlineMs: 10_000 }),
    slowloris: () => attack.slowloris(port, { intervalMs: 100, deadlineMs: limits.registerTimeoutMs + 10_000 }),
    silentCrowd: () => attack.silentCrowd(port, { count: 200, perAddress: 50, deadlineMs: limits.registerTimeoutMs + 10_000 }),
    halfRegistered: () => attack.halfRegistered(port, { prefix: n(), count: 50, perAddress: 25, deadlineMs: limits.registerTimeoutMs + 10_000 }),
    neverReads: () => attack.neverReads(port, { victim: n(), flooder: n(), messages: 120, bodyBytes: 60_000, deadlineMs: 15_000 }),
    // Floods within one connection's burst (docs/protocol.md D32), so each attack ends in seconds.
    receivedFlood: () => attack.receivedFlood(port, { name: n(), names: ["honest0", "honest1", n()], count: 1500, rng: r }),
    registerFlood: () => attack.registerFlood(port, { name: n(), count: 1500, taken: [] }),
    hog: () => attack.hog(port, { name: n(), accomplice: n(), totalBytes: 32 * 1024 * 1024, boundBytes: 16 * 1024 * 1024, honest: () => Bun.sleep(1000) }),
    liar: () => attack.liar(port, { name: n(), sender: n(), ackTimeoutMs: limits.ackTimeoutMs }),
    // docs/protocol.md §6: a flood to one slow reader costs the flooder its share, never the reader its connection or its name.
    eviction: async () => {
      using victim = await attack.slowReader(port, n());
      const flooderName = n();
      using flooder = await registered(port, flooderName, flooderName, attack.attackerAddress());
      const body = "f".repeat(64 * 1024);
      flooder.send(`SEND ${victim.peer.label}\nContent-length: ${body.length}\n\n${body}`.repeat(100));
      await flooder.flushed();
      victim.pace(Infinity);
      await victim.until(1, 15_000);
      if (victim.peer.isClosed) throw new Error("eviction: the flooded reader was closed");
    },
    // §6 "Connections": one address claiming names past its share gets ERROR 106 and keeps the connection.
    squat: async () => {
      const from = attack.attackerAddress();
      const opened: Peer[] = [];
      try {
        for (let i = 0; i < 40; i++) {
          const name = n();
          const peer = await Peer.connect(port, name, from);
          opened.push(peer);
          peer.send(`REGISTER TOSEND ${name}\n\n`);
          await peer.receives(i < limits.maxNamesPerAddress ? `REGISTERED TOSEND ${name}\n\n` : "ERROR 106 Server busy\n\n");
        }
      } finally {
        for (const peer of opened) peer.close();
      }
    },
    unregisteredFlood: async () => {
      // RECEIVED on a connection with no user: ERROR 101 each, read and dropped by the attacker.
      const flood = await attack.pour(port, { prefix: new Uint8Array(0), unit: new TextEncoder().encode("RECEIVED honest0\n\n"), total: 32 * 1024 });
      await flood.written;
      flood.end();
    },
  };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const r = rng(options.seed);
  const started = performance.now();
  const endAt = started + options.minutes * 60_000;
  const args = Object.entries(limits).flatMap(([name, value]) => [`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value)]);
  // Error-level lines are bugs in parley (connection.bug); kept as they come, however long the log grows.
  const errorLines: string[] = [];
  const onLine = (stream: string, line: string): void => {
    if (stream === "stderr" && /^\S+ error /.test(line) && errorLines.length < 100) errorLines.push(line);
  };
  await using server = await spawnServer([...args, "--log-level", "info"], { onLine });
  console.log(`soak: seed ${options.seed}, ${options.minutes} min, server pid ${server.proc.pid} on port ${server.port}, limits ${JSON.stringify(limits)}, RSS bound ${options.rssLimitMiB} MiB`);

  const checker = new InvariantChecker({ retain: 100_000 });
  const names = Array.from({ length: options.users }, (_, i) => `honest${i}`);
  const group = await HonestGroup.start({
    port: server.port,
    names,
    single: names.slice(0, 2),
    checker,
    rng: r,
    window: 8,
    maxBody: 8192,
    broadcast: 0.02,
    onLoss: "strict",
  });

  let nextName = 1;
  const rotation = attacks(server.port, r, () => nextName++);
  const kinds = Object.keys(rotation);
  const attacksDone = new Map<string, number>();
  const attackFailures: string[] = [];
  let stopping = false;

  // Attackers that check exact replies on a registered user must not get honest
  // broadcasts in between: broadcasts pause (and drain) while one of them runs.
  const quietKinds = new Set(["neverReads", "receivedFlood", "hog", "liar"]);
  let quiet = 0;
  const broadcastShare = group.broadcast;

  // Two attack lanes, each running one attack after another until the end.
  const lane = async (): Promise<void> => {
    while (!stopping && performance.now() < endAt) {
      const kind = r.pick(kinds);
      const needsQuiet = quietKinds.has(kind);
      try {
        // No broadcast in flight: a user who registers now gets no honest FORWARD until broadcasts resume.
        if (needsQuiet && quiet++ >= 0) {
          group.broadcast = 0;
          await group.waitFor(() => checker.outstandingTo("ALL") === 0, 15_000, "honest broadcasts in flight to be answered");
        }
        await rotation[kind]!();
        attacksDone.set(kind, (attacksDone.get(kind) ?? 0) + 1);
      } catch (error) {
        attackFailures.push(`${kind}: ${(error as Error).message.slice(0, 300)}`);
      } finally {
        if (needsQuiet && --quiet === 0) group.broadcast = broadcastShare;
      }
    }
  };
  // Churn: now and then an honest member leaves and joins again.
  const churn = async (): Promise<void> => {
    while (!stopping && performance.now() < endAt) {
      await new Promise((resolve) => setTimeout(resolve, 5000 + r.int(10_000)));
      if (stopping) break;
      const member = group.member(r.pick(names));
      member.leave();
      // The server may not have seen the old connections close yet (ERROR 104): retry briefly.
      await member.join(3000).then(
        () => member.pump(),
        (error: Error) => group.fault(`churn: ${error.message}`),
      );
    }
  };

  let peakRss = 0;
  let lastReplies = 0;
  let lastReport = 0;
  let lastSent = 0;
  let lastFailed = 0;
  let starvedReports = 0;
  const problems: string[] = [];
  const report = (): void => {
    const elapsed = (performance.now() - started) / 1000;
    let rss = NaN;
    let sockets = NaN;
    try {
      rss = rssMiB(server.proc.pid);
      sockets = openSockets(server.proc.pid) - 1;
    } catch {
      problems.push("the server process is gone");
    }
    peakRss = Math.max(peakRss, rss);
    const { replies, sent, failed } = checker.counts;
    const rate = (replies - lastReplies) / Math.max(0.001, elapsed - lastReport);
    lastReport = elapsed;
    starvedReports = replies === lastReplies ? starvedReports + 1 : 0;
    if (starvedReports >= 3) problems.push(`no honest SEND answered for ${starvedReports * options.reportSeconds} s`);
    const violations = checker.violations.length + group.faults.length + attackFailures.length + errorLines.length;
    const done = [...attacksDone.values()].reduce((a, b) => a + b, 0);
    console.log(
      `[${fmt(elapsed)}] rss=${rss.toFixed(1)}MiB peak=${peakRss.toFixed(1)}MiB conns=${sockets} tx/s=${rate.toFixed(0)} ` +
        `(sent ${sent - lastSent}, 102 ${failed - lastFailed}) total=${replies} attacks=${done} violations=${violations}`,
    );
    lastReplies = replies;
    lastSent = sent;
    lastFailed = failed;
    if (rss > options.rssLimitMiB) problems.push(`server RSS ${rss.toFixed(1)} MiB over the ${options.rssLimitMiB} MiB bound`);
  };
  const reporter = setInterval(report, options.reportSeconds * 1000);
  const lanes = [lane(), lane(), churn()];
  const exited = server.proc.exited.then((code) => {
    if (!stopping) problems.push(`the server exited by itself (code ${code}, signal ${server.proc.signalCode})`);
  });

  await Promise.race([Promise.all(lanes), exited]);
  stopping = true;
  await Promise.all(lanes);
  clearInterval(reporter);
  report();

  // The end: every honest SEND answered, then a graceful shutdown that exits 0.
  await group.quiesce(15_000).catch((error: Error) => problems.push(error.message));
  const violations = checker.verify();
  group.close();
  server.kill("SIGTERM");
  const code = await Promise.race([server.proc.exited, new Promise<string>((resolve) => setTimeout(() => resolve("no exit within 5 s"), 5000))]);
  if (code !== 0) problems.push(`server exit after SIGTERM: ${code}`);

  const all = [...violations, ...group.faults, ...attackFailures.map((f) => `attack failed: ${f}`), ...errorLines.map((l) => `server bug: ${l}`), ...problems];
  console.log(`attacks: ${[...attacksDone].map(([k, v]) => `${k}=${v}`).join(" ")}`);
  console.log(`honest: ${checker.summary()}`);
  console.log(`server: peak RSS ${peakRss.toFixed(1)} MiB (bound ${options.rssLimitMiB} MiB), exit ${code}`);
  if (all.length > 0) {
    console.log(`FAIL (seed ${options.seed}): ${all.length} problem(s)`);
    for (const line of all.slice(0, 50)) console.log(`  ${line}`);
    return 1;
  }
  console.log(`PASS (seed ${options.seed}): ${fmt((performance.now() - started) / 1000)}, no violation`);
  return 0;
}

/** Resident memory in MiB, from /proc/<pid>/status. */
function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
}

/** Open TCP sockets of the process (the listener included), from /proc/<pid>/fd. */
function openSockets(pid: number): number {
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
    } catch {
      // closed while we looked
    }
  }
  return sockets;
}

function fmt(seconds: number): string {
  const s = Math.floor(seconds);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`soak: ${error.stack ?? error.message}`);
    process.exit(2);
  },
);
