// The cluster scenario (issue 12's evidence): each run on fresh processes, a
// nats-server of its own (bench/nats-server.ts) and `parley server --cluster`
// nodes. Unicast plans run three times: sender and receiver on node0
// (same-node), the receiver on node1 (cross-node), and the ceiling, NATS
// request/reply with nothing of parley around it (bench/nats-ceiling.ts).
// Broadcast plans run twice: every receiver on node0, then spread over three
// nodes. The CPU of every node and of nats-server is read from /proc.

import type { GeneratorConfig } from "./load.ts";
import { measureWindow, type Watched } from "./measure.ts";
import { startNatsServer, type NatsServer } from "./nats-server.ts";
import type { RequesterConfig } from "./nats-ceiling.ts";
import type { Options } from "./options.ts";
import type { Plan } from "./plans.ts";
import { nextEvent, startEvents, startGenerator, startRelay, stopProcess, type Generator, type Relay } from "./processes.ts";
import { failedRow, type Row, type Versus } from "./report.ts";

/** Unicast: two nodes, the sender on node0; broadcast: three, as issue 12 asks. */
const unicastNodes = 2;
const broadcastNodes = 3;

/** A progress line for one run (bench/run.ts's, which --quiet silences). */
type Log = (line: string) => void;

type Placement = { label: string; nodes: number; receiversOn: readonly number[] };

/** `profile`: the run's name, when --cpu-prof asks for one profile per node. */
async function startNodes(nats: NatsServer, count: number, plan: Plan, options: Options, profile: string): Promise<Relay[]> {
  const profiled = (i: number) => (options.cpuProf === undefined ? undefined : { dir: options.cpuProf, name: `${profile}-node${i}` });
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startRelay("parley", "tcp", plan.limits, options.parleyDir, profiled(i), ["--cluster", nats.url, "--node-name", `node${i}`])),
  );
  const nodes = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failed = started.find((result) => result.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(nodes.map((node) => stopProcess(node.proc)));
    throw failed.reason;
  }
  return nodes;
}

/** One run of `plan` on a fresh cluster: the sender on node0, the receivers over the nodes `placement` names. */
async function runPlaced(plan: Plan, placement: Placement, repeat: number, options: Options, log: Log): Promise<Row> {
  const head = { scenario: plan.scenario, label: `${plan.label} ${placement.label}`, target: "parley", transport: "tcp", repeat } as const;
  log(`${head.label}${options.repeat > 1 ? ` #${repeat}` : ""}`);
  let nats: NatsServer | undefined;
  let nodes: Relay[] = [];
  try {
    nats = await startNatsServer();
    nodes = await startNodes(nats, placement.nodes, plan, options, `${head.label.replace(/[^A-Za-z0-9=]+/g, "-")}-r${repeat}`);
    const config: GeneratorConfig = { ...plan.config, target: "parley", port: nodes[0]!.port, receiverPorts: placement.receiversOn.map((i) => nodes[i]!.port) };
    const watched: Watched[] = [...nodes.map((node, i) => ({ name: `node${i}`, pid: node.proc.pid })), { name: "nats", pid: nats.proc.pid }];
    return { ...head, ...(await measureWindow(config, startGenerator(config), watched)) };
  } catch (error) {
    return failedRow(head, error);
  } finally {
    // The nodes first: leaving, they give their names back over the bus.
    await Promise.all(nodes.map((node) => stopProcess(node.proc)));
    await nats?.stop();
  }
}

/** The ceiling of a unicast plan: as many requests in flight as the cross-node run has SENDs, answered at once. */
async function runCeiling(plan: Plan, repeat: number, options: Options, log: Log): Promise<Row> {
  const head = { scenario: plan.scenario, label: `${plan.label} nats r/r`, target: "nats", transport: "tcp", repeat } as const;
  log(`${head.label}${options.repeat > 1 ? ` #${repeat}` : ""}`);
  let nats: NatsServer | undefined;
  let responder: Generator | undefined;
  try {
    nats = await startNatsServer();
    responder = startEvents("responder", ["bench/nats-ceiling.ts", "respond", nats.url]);
    if ((await nextEvent(responder, 30_000)).event !== "ready") throw new Error("responder: expected ready");
    const { warmupMs, durationMs, drainMs, deadlineMs, body } = plan.config;
    const config: RequesterConfig = { url: nats.url, inflight: plan.config.pairs * plan.config.inflight, body, warmupMs, durationMs, drainMs, deadlineMs };
    const requester = startEvents("requester", ["bench/nats-ceiling.ts", "request", JSON.stringify(config)]);
    const measured = await measureWindow(plan.config, requester, [
      { name: "responder", pid: responder.proc.pid },
      { name: "nats", pid: nats.proc.pid },
    ]);
    // The requester is the load here, but it also does what the sender's node does for a cross-node SEND: its CPU belongs to the path.
    const requesterMicrosPerTx = (measured.generatorCpuPct / 100) * 1e6 / measured.txPerSec;
    return { ...head, ...measured, processMicrosPerTx: { requester: requesterMicrosPerTx, ...measured.processMicrosPerTx } };
  } catch (error) {
    return failedRow(head, error);
  } finally {
    if (responder !== undefined) {
      responder.proc.stdin.end();
      await stopProcess(responder.proc);
    }
    await nats?.stop();
  }
}

/** The CPU of every process on the path per round trip: for the ceiling the requester's too, as it stands for the sender's node. */
function pathMicrosPerTx(row: Row): number {
  return Object.values(row.processMicrosPerTx ?? {}).reduce((sum, micros) => sum + micros, 0);
}

/** `row` against a run of the same load on one node or on bare NATS: throughput and the path's CPU, each as a ratio. */
function versus(row: Row, base: Row | undefined): Versus | undefined {
  if (row.error !== undefined || base === undefined || base.error !== undefined || !(base.txPerSec > 0)) return undefined;
  return { tx: row.txPerSec / base.txPerSec, micros: pathMicrosPerTx(row) / pathMicrosPerTx(base) };
}

export async function runCluster(plan: Plan, repeat: number, options: Options, log: Log): Promise<Row[]> {
  if (plan.config.kind === "broadcast") {
    const every = Array.from({ length: broadcastNodes }, (_, i) => i);
    const one = await runPlaced(plan, { label: "1 node", nodes: broadcastNodes, receiversOn: [0] }, repeat, options, log);
    const spread = await runPlaced(plan, { label: `${broadcastNodes} nodes`, nodes: broadcastNodes, receiversOn: every }, repeat, options, log);
    spread.versusOneNode = versus(spread, one);
    return [one, spread];
  }
  const same = await runPlaced(plan, { label: "same-node", nodes: unicastNodes, receiversOn: [0] }, repeat, options, log);
  const cross = await runPlaced(plan, { label: "cross-node", nodes: unicastNodes, receiversOn: [1] }, repeat, options, log);
  const ceiling = await runCeiling(plan, repeat, options, log);
  cross.versusOneNode = versus(cross, same);
  cross.versusCeiling = versus(cross, ceiling);
  return [same, cross, ceiling];
}
