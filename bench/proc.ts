// What bench/run.ts reads off Linux about a process and the machine: CPU
// ticks and RSS from /proc, the file-descriptor limit a shell can give a child,
// and a one-line machine description for the results.

import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/** Clock ticks per second for /proc/<pid>/stat (sysconf(_SC_CLK_TCK)). */
export const clockTicks = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  return Number(out) > 0 ? Number(out) : 100;
})();

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Resident set size in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : NaN;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

// Raise the soft limit as far as this shell may: 65536 when the hard limit (or
// CAP_SYS_RESOURCE) allows it, else the hard limit; then exec the command.
const raiseScript = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;

/** argv run through `sh -c` with the raised fd limit; exec keeps the pid. */
export function withRaisedFdLimit(argv: string[]): string[] {
  return ["sh", "-c", raiseScript, "sh", ...argv];
}

/** The fd limit a child started through withRaisedFdLimit gets. */
export const childFdLimit = (() => {
  const out = Bun.spawnSync(withRaisedFdLimit(["sh", "-c", "ulimit -n"])).stdout.toString().trim();
  return out === "unlimited" ? 1 << 20 : Number(out);
})();

export type Machine = {
  cores: number;
  cpuModel: string;
  memoryMiB: number;
  bun: string;
  os: string;
  fdLimit: number;
  loadAverage: number[];
};

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    bun: Bun.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    fdLimit: childFdLimit,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

export function machineLine(machine: Machine): string {
  return `${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryMiB} MiB, Bun ${machine.bun}, ${machine.os}, fd limit ${machine.fdLimit}, load ${machine.loadAverage.join(" ")}`;
}
