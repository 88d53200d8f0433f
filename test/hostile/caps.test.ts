// The caps of docs/protocol.md §6 "Names" and "Connections" while an honest
// group chats: connections per address and in all (a real process under
// `ulimit -n`), names per address and their grace, names regardless of case,
// and a log nobody reads.

import { describe, expect, test } from "bun:test";
import { closeSync, constants, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openArena } from "../support/arena.ts";
import { attackerAddress } from "../support/attackers.ts";
import { HonestGroup } from "../support/honest.ts";
import { InvariantChecker } from "../support/invariants.ts";
import { Peer, registered } from "../support/peer.ts";
import { rng, seedFromEnv } from "../support/prng.ts";
import { freePort, fromSource, spawnServer } from "../support/process.ts";
import { eventually } from "../support/server.ts";

const busy = "ERROR 106 Server busy\n\n";
const taken = "ERROR 104 Username taken\n\n";

/** The honest group and its checker beside a server in another process (the arena's server is in this one). */
async function honestBeside(port: number, broadcast = 0.1) {
  const seed = seedFromEnv("PARLEY_SEED", 0xa2e4a);
  const checker = new InvariantChecker();
  const group = await HonestGroup.start({ port, names: ["alice", "bob", "carol", "dave"], single: ["dave"], checker, rng: rng(seed), broadcast });
  return {
    group,
    /** Proves every honest SEND was answered exactly once and nobody honest was disconnected. */
    async finish(): Promise<void> {
      const problems: string[] = [];
      await group.quiesce(5000).catch((error: Error) => problems.push(error.message));
      problems.push(...checker.verify(), ...group.faults);
      if (checker.counts.sent === 0) problems.push("no honest SEND succeeded");
      if (problems.length > 0) throw new Error(`PARLEY_SEED=${seed}: ${checker.summary()}\n  ${problems.slice(0, 20).join("\n  ")}`);
    },
    [Symbol.dispose]: () => void group.close(),
  };
}

/** utime + stime of process `pid`, in clock ticks of 1/100 s (/proc/<pid>/stat fields 14 and 15; USER_HZ is 100 on Linux). */
async function cpuTicks(pid: number): Promise<number> {
  const fields = (await Bun.file(`/proc/${pid}/stat`).text()).split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function rssMiB(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${pid}/status`).text())?.[1]) / 1024;
}

/** Asks for `name` on a new connection from `from`: REGISTERED (the connection then closes) or ERROR 104. */
async function claim(port: number, name: string, from: string): Promise<string> {
  using peer = await Peer.connect(port, "claim", from);
  const registered = `REGISTERED TOSEND ${name}\n\n`;
  peer.send(`REGISTER TOSEND ${name}\n\n`);
  const answer = () => new TextDecoder().decode(peer.unread);
  await eventually(() => answer().endsWith("\n\n") || peer.isClosed, `an answer to REGISTER ${name}`, 3000);
  if (answer() !== taken && answer() !== registered) throw new Error(`REGISTER ${name}: unexpected ${JSON.stringify(answer())}`);
  return answer();
}

function p99(latencies: readonly number[]): string {
  return `${(latencies.toSorted((a, b) => a - b)[Math.floor(latencies.length * 0.99)] ?? Number.NaN).toFixed(1)} ms`;
}

describe("caps", () => {
  test("3. under ulimit -n 512, connections past 64 per address or 448 in all get ERROR 106 and a close, and the server does not spin", async () => {
    await using server = await spawnServer([], { fileLimit: 512 });
    expect(server.stderr).toContain("server.limits fileLimit=512 maxConnections=448");
    using honest = await honestBeside(server.port);
    await honest.group.progress(20);
    using crowd = new DisposableStack();
    const open = async (from: string) => crowd.use(await Peer.connect(server.port, "crowd", from));
    // Opened one at a time, so the server takes them in this order; a kept one answers a request.
    const kept = async (from: string) => {
      const peer = await open(from);
      peer.send("SEND nobody\nContent-length: 0\n\n");
      await peer.receives("ERROR 101 No user registered\n\n");
      return peer;
    };
    const refused = async (from: string) => {
      const peer = await open(from);
      await peer.receives(busy);
      await peer.closes();
    };
    const crowded = attackerAddress();
    const peers: Peer[] = [];
    for (let i = 0; i < 64; i++) peers.push(await kept(crowded));
    await refused(crowded);
    // The honest group's seven connections, then others up to the global cap, 60 from each address.
    let from = crowded;
    for (let count = 7 + 64; count < 448; count++) peers.push(await kept(count % 60 === 11 ? (from = attackerAddress()) : from));
    const late = attackerAddress();
    for (let i = 0; i < 10; i++) await refused(late);
    await honest.group.progress(100);
    // CPU while the server is full and refusing: the honest group rests, and an attacker knocks every 20 ms for a second.
    await honest.group.quiesce();
    honest.group.broadcast = 0; // from here on a newcomer is registered that answers nothing
    const pid = server.proc.pid;
    const [ticks, started] = [await cpuTicks(pid), performance.now()];
    while (performance.now() - started < 1000) {
      await refused(late);
      await Bun.sleep(20); // the attacker's pace, not synchronisation
    }
    const cpu = ((await cpuTicks(pid)) - ticks) / 100 / ((performance.now() - started) / 1000);
    expect(cpu).toBeLessThan(0.5);
    // The crowd leaves; then a newcomer can register and chat.
    for (const peer of peers) peer.close();
    await eventually(() => peers.every((peer) => peer.isClosed), "the server to close the crowd", 5000);
    honest.group.running = true;
    for (const member of honest.group.members) member.pump();
    using newcomer = await registered(server.port, "newcomer");
    newcomer.send("SEND alice\nContent-length: 2\n\nhi");
    await newcomer.receives("SENT alice\n\n");
    await honest.group.progress(100);
    await honest.finish();
    console.log(`3: server CPU ${(cpu * 100).toFixed(1)}% of a core while full; honest p99 ${p99(honest.group.latencies)}`);
  }, 20_000);

  test("7. one address registering 2,000 names holds 32, and the names it loses are free after the grace", async () => {
    const nameGraceMs = 1000;
    await using arena = await openArena({ limits: { nameGraceMs }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    const squat = attackerAddress();
    using squatters = new DisposableStack();
    const conns: Peer[] = [];
    // One name per connection (PROTOCOL.md §3), 64 connections (the per-address cap): 32 names, then ERROR 106.
    for (let i = 0; i < 64; i++) {
      const peer = squatters.use(await Peer.connect(arena.port, `squat${i}`, squat));
      peer.send(`REGISTER TOSEND sq${i}\n\nREGISTER TORECV sq${i}\n\n`);
      await peer.receives(i < 32 ? `REGISTERED TOSEND sq${i}\n\nREGISTERED TORECV sq${i}\n\n` : busy.repeat(2));
      conns.push(peer);
    }
    // The refused connections stay open and try the remaining 1,936 names.
    const refused = conns.slice(32);
    await Promise.all(
      refused.map(async (peer, j) => {
        const names = Array.from({ length: 61 }, (_, k) => 64 + j * 61 + k).filter((n) => n < 2000);
        peer.send(names.map((n) => `REGISTER TOSEND sq${n}\n\n`).join(""));
        await peer.receives(busy.repeat(names.length));
      }),
    );
    expect(refused.every((peer) => !peer.isClosed)).toBe(true);
    expect(arena.server.users).toBe(arena.group.members.length + 32);
    // The names beyond are not held: someone else takes two, and gives them back.
    for (const name of ["sq40", "sq1999"]) (await registered(arena.port, name)).close();
    // The 32 holders are lost uncleanly (they never answer a FORWARD: the ack deadline).
    using prodder = await registered(arena.port, "prodder", "prodder", attackerAddress());
    prodder.send(Array.from({ length: 32 }, (_, i) => `SEND sq${i}\nContent-length: 1\n\nx`).join(""));
    await prodder.receives("ERROR 102 Unable to send\n\n".repeat(32), 5000);
    const lost = performance.now();
    // During the grace, another address gets ERROR 104; the same address takes its name back at once.
    using thief = await Peer.connect(arena.port, "thief", attackerAddress());
    thief.send("REGISTER TOSEND sq0\n\n");
    await thief.receives(taken);
    using back = await registered(arena.port, "sq1", "sq1", squat);
    expect(performance.now() - lost).toBeLessThan(nameGraceMs);
    expect(back.isClosed).toBe(false);
    // After it, the others are anyone's: ask until sq2 is free.
    while ((await claim(arena.port, "sq2", attackerAddress())) === taken) await Bun.sleep(25); // a retry delay, not synchronisation
    expect(performance.now() - lost).toBeGreaterThanOrEqual(nameGraceMs - 100);
    await arena.group.progress(50);
    await arena.finish();
  }, 20_000);

  test("8. names: ALL is reserved in any case, Alice and alice are one name, and 150,000 provoked log lines into a stderr nobody reads hold no memory", async () => {
    // A real process whose stderr is a FIFO this test stops reading once the server listens.
    const fifo = join(tmpdir(), `parley-log-${process.pid}.fifo`);
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const log = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, "w");
    const port = freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PARLEY_")));
    const server = Bun.spawn([...fromSource, "server", "--port", String(port)], { env, stdin: "ignore", stdout: "ignore", stderr: writer });
    closeSync(writer);
    unlinkSync(fifo);
    using _ = { [Symbol.dispose]: () => (server.kill("SIGKILL"), closeSync(log)) };
    let text = "";
    const read = () => {
      const chunk = Buffer.alloc(1 << 16);
      try {
        for (let n; (n = readSync(log, chunk)) > 0; ) text += chunk.toString("utf8", 0, n);
      } catch {} // EAGAIN: nothing more for now
      return text;
    };
    await eventually(() => read().includes("server.listening"), "the server to listen", 5000);
    // No honest broadcasts: the users this test registers never answer.
    using honest = await honestBeside(port, 0);
    await honest.group.progress(20);

    // ALL in any case: not a name (ERROR 100); SEND all is a broadcast.
    using caser = await registered(port, "caser", "caser", attackerAddress());
    for (const all of ["all", "ALL", "aLl"]) {
      using peer = await Peer.connect(port, "all", attackerAddress());
      peer.send(`REGISTER TOSEND ${all}\n\n`);
      await peer.receives("ERROR 100 Malformed username\n\n");
    }
    // Alice and alice are one name: taken, from anywhere; and SEND ALICE reaches alice.
    using alice = await Peer.connect(port, "Alice", attackerAddress());
    alice.send("REGISTER TOSEND Alice\n\nREGISTER TORECV ALICE\n\n");
    await alice.receives(taken.repeat(2));
    caser.send("SEND all\nContent-length: 2\n\nhi");
    await caser.receives("SENT ALL\n\n");
    caser.send("SEND ALICE\nContent-length: 2\n\nhi");
    await caser.receives("SENT alice\n\n");

    // 150,000 lines provoked: three addresses fill their 32 names, then 32 more connections each ask for 1,600 more (ERROR 106, connection.busy).
    using attackers = new DisposableStack();
    const spammers: Peer[] = [];
    for (let a = 0; a < 3; a++) {
      const from = attackerAddress();
      for (let i = 0; i < 32; i++) attackers.use(await registered(port, `holder${a}x${i}`, "holder", from));
      for (let i = 0; i < 32; i++) spammers.push(attackers.use(await Peer.connect(port, "spammer", from)));
    }
    const spam = (count: number) =>
      Promise.all(
        spammers.map(async (peer, i) => {
          peer.send(`REGISTER TOSEND spam${i}\n\n`.repeat(count));
          await peer.receives(busy.repeat(count), 10_000);
        }),
      );
    // A first round warms the server up; memory is measured over the rest.
    await spam(400);
    const baseline = await rssMiB(server.pid);
    await spam(1200);
    const growth = (await rssMiB(server.pid)) - baseline;
    const provoked = spammers.length * 1600;
    await honest.group.progress(100);
    await honest.finish();
    // Reading again lets the server say how many lines it dropped while nobody read.
    await eventually(() => /log\.dropped lines=\d+/.test(read()), "log.dropped", 5000);
    const dropped = Number(/log\.dropped lines=(\d+)/.exec(text)![1]);
    const busyLines = text.split("\n").filter((line) => line.includes("connection.busy")).length;
    expect(provoked).toBeGreaterThanOrEqual(150_000);
    // Measured at ~15 MiB with or without the rate of lines (the REGISTERs' own cost); buffering every line would add ~20.
    expect(growth).toBeLessThan(32);
    expect(dropped).toBeGreaterThan(0);
    // Each connection may cause a burst of 100 lines, then 10 a second (D34): far fewer lines than provoked were even formatted.
    expect(busyLines + dropped).toBeLessThan(20_000);
    console.log(`8: server RSS +${growth.toFixed(1)} MiB over the last 115,200 of ${provoked} provoked lines; ${busyLines} connection.busy lines read, ${dropped} dropped; honest p99 ${p99(honest.group.latencies)}`);
  }, 30_000);
});
