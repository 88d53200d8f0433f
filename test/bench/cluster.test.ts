// A tiny run of `bun run bench -- --scenario cluster` (N = 2, 6 broadcast
// receivers, windows of a quarter second) against a real nats-server and
// real `parley server --cluster` nodes: every run must report numbers, the
// cross-node rows their ratios to same-node and to bare NATS request/reply,
// each row the CPU of every process on its path. Speed is never asserted.
// Without nats-server on PATH the scenario is skipped with one line, and
// the rest of the bench runs.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Results } from "../../bench/report.ts";

const root = path.resolve(import.meta.dir, "../..");
const short = ["--duration", "0.25", "--broadcast-duration", "0.25", "--warmup", "0.05", "--pairs", "2", "--inflight", "2", "--quiet"];
let dir: string | undefined;

afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function bench(args: string[], env: Record<string, string | undefined> = process.env): Promise<{ code: number; stdout: string; stderr: string; results: Results }> {
  dir = mkdtempSync(path.join(tmpdir(), "parley-bench-"));
  const out = path.join(dir, "results.json");
  const proc = Bun.spawn([process.execPath, "bench/run.ts", ...short, ...args, "--json-out", out], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, results: JSON.parse(readFileSync(out, "utf8")) as Results };
}

describe("bench --scenario cluster", () => {
  test(
    "runs same-node, cross-node and the NATS ceiling, and broadcast on one node and over three, with every process's CPU",
    async () => {
      const { code, stderr, stdout, results } = await bench(["--scenario", "cluster", "--cluster-receivers", "6"]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toContain("vs nats r/r");
      expect(results.rows.map((row) => `${row.label} ${row.target}`)).toEqual([
        "cluster closed N=2 same-node parley",
        "cluster closed N=2 cross-node parley",
        "cluster closed N=2 nats r/r nats",
        "cluster pipelined N=2 x2 same-node parley",
        "cluster pipelined N=2 x2 cross-node parley",
        "cluster pipelined N=2 x2 nats r/r nats",
        "cluster broadcast M=6 1 node parley",
        "cluster broadcast M=6 3 nodes parley",
      ]);
      for (const row of results.rows) {
        expect(row.error).toBeUndefined();
        expect(row.errors).toBe(0);
        expect(row.txPerSec).toBeGreaterThan(0);
        expect(row.p99Ms).toBeGreaterThan(0);
        expect(Number.isFinite(row.generatorCpuPct)).toBe(true);
        const processes = Object.keys(row.processMicrosPerTx ?? {});
        if (row.target === "nats") expect(processes).toEqual(["requester", "responder", "nats"]);
        else if (row.label.includes("broadcast")) expect(processes).toEqual(["node0", "node1", "node2", "nats"]);
        else expect(processes).toEqual(["node0", "node1", "nats"]);
        const compared = row.label.endsWith("cross-node") || row.label.endsWith("3 nodes");
        expect(row.versusOneNode === undefined).toBe(!compared);
        expect(row.versusCeiling === undefined).toBe(!row.label.endsWith("cross-node"));
        for (const versus of [row.versusOneNode, row.versusCeiling]) {
          if (versus === undefined) continue;
          expect(versus.tx).toBeGreaterThan(0);
          expect(versus.micros).toBeGreaterThan(0);
        }
      }
    },
    90_000,
  );

  test("without nats-server on PATH, says so in one line and runs the rest", async () => {
    // Debian puts nats-server in /usr/sbin: a PATH without it finds none, and still has sh, getconf and git.
    const { code, stderr, results } = await bench(["--scenario", "cluster,closed", "--targets", "raw"], { ...process.env, PATH: "/usr/bin:/bin" });
    expect({ code, stderr }).toEqual({ code: 0, stderr: "bench: cluster: skipped, nats-server is not installed (apt-get install nats-server)\n" });
    expect(results.rows.map((row) => `${row.label} ${row.target}`)).toEqual(["closed N=2 raw"]);
  }, 30_000);
});
