// The results of a bench run: one row per (scenario, target, repeat), the
// table printed at the end, and the JSON document written beside it.

import type { Target } from "./load.ts";
import type { Options, Scenario, Transport } from "./options.ts";
import type { Machine } from "./proc.ts";

/** One run's tx/s and CPU per round trip over another's in the same repeat. */
export type Versus = { tx: number; micros: number };

export type Row = {
  scenario: Scenario;
  label: string;
  /** nats: the cluster scenario's ceiling, NATS request/reply with no parley (bench/nats-ceiling.ts). */
  target: Target | "nats";
  /** How the generator reached the server: tls and ws only in closed and pipelined with --transport; a raw ws row is the raw WebSocket relay's. */
  transport: Transport;
  repeat: number;
  txPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  serverCpuPct: number;
  generatorCpuPct: number;
  /** Server CPU time per transaction (per user registered for scale and accounts), in microseconds: steadier than tx/s on a busy machine. */
  serverMicrosPerTx: number;
  completed: number;
  errors: number;
  /** parley only: its tx/s over the raw relay's in the same repeat (over WebSocket, the raw WebSocket relay's). */
  ratio?: number;
  /** parley only: that raw relay's serverMicrosPerTx, printed beside the ratio. */
  rawServerMicrosPerTx?: number;
  /** attack, flooded run: its honest tx/s and p99 over the quiet run's in the same repeat. */
  quietTxRatio?: number;
  quietP99Ratio?: number;
  /** attack, flooded run: the attacker's SENDs answered SENT and ERROR 102 in the window, and its CPU% as srv CPU%. */
  attackerSent?: number;
  attackerRefused?: number;
  attackerCpuPct?: number;
  /** cluster: µs of CPU per round trip of each process on the path (the nodes and nats-server; for the ceiling the requester and responder). */
  processMicrosPerTx?: Record<string, number>;
  /** cluster, cross-node and broadcast over 3 nodes: tx/s and the path's µs/tx over the same load with every user on node0. */
  versusOneNode?: Versus;
  /** cluster, cross-node: tx/s and the path's µs/tx over NATS request/reply alone (bench/nats-ceiling.ts). */
  versusCeiling?: Versus;
  /** TLS run: its tx/s and its srv µs/tx over the plain TCP run's in the same repeat. */
  tcpTxRatio?: number;
  tcpMicrosRatio?: number;
  /** accounts, run with accounts: its users/s and srv µs/user over the run without's in the same repeat. */
  withoutTxRatio?: number;
  withoutMicrosRatio?: number;
  /** accounts, run with accounts: the CPU time of one password check, measured in the bench's own process (ms); one at a time, it bounds the server at 1000 / checkCpuMs users/s. */
  checkCpuMs?: number;
  mbPerSec?: number;
  rssPerUserKiB?: number;
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  serverFds?: number;
  generatorProcesses?: number;
  note?: string;
  error?: string;
};

/** The row of a run that failed: no figures, and why. */
export function failedRow(head: Pick<Row, "scenario" | "label" | "target" | "transport" | "repeat">, error: unknown): Row {
  return { ...head, txPerSec: NaN, p50Ms: null, p99Ms: null, p999Ms: null, serverCpuPct: NaN, generatorCpuPct: NaN, serverMicrosPerTx: NaN, completed: 0, errors: 0, error: (error as Error).message };
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function rate(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e4 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0);
}

function micros(value: number): string {
  return fixed(value, value >= 100 ? 0 : value >= 10 ? 1 : 2);
}

/** The throughput ratio, with both servers' CPU per round trip beside it: a ratio alone hides whether either side was busy. */
function vsRaw(row: Row): string {
  if (row.ratio === undefined) return "";
  return `${fixed(row.ratio, 2)}x (${micros(row.serverMicrosPerTx)} vs ${micros(row.rawServerMicrosPerTx ?? NaN)} µs/tx)`;
}

function extra(row: Row): string {
  if (row.error !== undefined) return `FAILED: ${row.error.slice(0, 160)}`;
  const parts: string[] = [];
  if (row.quietTxRatio !== undefined) parts.push(`vs quiet: ${fixed(row.quietTxRatio, 2)}x tx/s, ${fixed(row.quietP99Ratio, 2)}x p99`);
  if (row.processMicrosPerTx !== undefined) parts.push(`${Object.entries(row.processMicrosPerTx).map(([name, value]) => `${name} ${micros(value)}`).join(" + ")} µs/tx`);
  if (row.versusOneNode !== undefined) parts.push(`vs all on node0: ${fixed(row.versusOneNode.tx, 2)}x tx/s, ${fixed(row.versusOneNode.micros, 2)}x µs/tx`);
  if (row.versusCeiling !== undefined) parts.push(`vs nats r/r: ${fixed(row.versusCeiling.tx, 2)}x tx/s, ${fixed(row.versusCeiling.micros, 2)}x µs/tx`);
  if (row.tcpTxRatio !== undefined) parts.push(`vs tcp: ${fixed(row.tcpTxRatio, 2)}x tx/s, ${fixed(row.tcpMicrosRatio, 2)}x µs/tx`);
  if (row.withoutTxRatio !== undefined) parts.push(`vs without: ${fixed(row.withoutTxRatio, 3)}x users/s, ${fixed(row.withoutMicrosRatio, 0)}x µs/user`);
  if (row.checkCpuMs !== undefined) {
    const bound = 1000 / row.checkCpuMs;
    parts.push(`bound 1000/${fixed(row.checkCpuMs, 1)} ms = ${fixed(bound, 1)} users/s, reached ${fixed(row.txPerSec / bound, 2)}x`);
  }
  if (row.attackerSent !== undefined) parts.push(`attacker: ${row.attackerSent} SENT, ${row.attackerRefused} ERROR 102, ${fixed(row.attackerCpuPct, 0)}% CPU`);
  if (row.mbPerSec !== undefined) parts.push(`${row.mbPerSec.toFixed(1)} MB/s`);
  if (row.rssPerUserKiB !== undefined) parts.push(`RSS ${row.rssPerUserKiB.toFixed(2)} KiB/user (${Math.round(row.rssBeforeKiB! / 1024)}->${Math.round(row.rssAfterKiB! / 1024)} MiB, ${row.serverFds} fds, ${row.generatorProcesses} gen)`);
  if (row.errors > 0) parts.push(`${row.errors} errors`);
  if (row.p99Ms !== null && row.completed < 1000) parts.push(`percentiles of ${row.completed} samples`);
  if (row.note !== undefined) parts.push(row.note);
  return parts.join("; ");
}

export function table(rows: Row[]): string {
  const header = ["scenario", "target", "tx/s", "p50 ms", "p99 ms", "p99.9 ms", "srv CPU%", "gen CPU%", "srv µs/tx", "vs raw", "notes"];
  const body = rows.map((row) => [
    row.label + (rows.some((other) => other.repeat > 1) ? ` #${row.repeat}` : ""),
    row.target,
    rate(row.txPerSec),
    fixed(row.p50Ms, 3),
    fixed(row.p99Ms, 3),
    fixed(row.p999Ms, 3),
    fixed(row.serverCpuPct, 0),
    fixed(row.generatorCpuPct, 0),
    micros(row.serverMicrosPerTx),
    vsRaw(row),
    extra(row),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i >= 2 && i <= 9 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(" | ")} |`;
  return [line(header), `|${widths.map((width, i) => (i >= 2 && i <= 9 ? "-".repeat(width + 1) + ":" : "-".repeat(width + 2))).join("|")}|`, ...body.map(line)].join("\n");
}

export type Results = { machine: Machine; machineLine: string; revision: string; startedAt: string; finishedAt: string; options: Options; rows: Row[] };
