// A short run of `bun run bench` with everything small (N = 2): it must
// finish and report numbers for every scenario and both targets (closed and
// pipelined: parley over TLS and over WebSocket too, the latter against the
// raw WebSocket relay; the attack scenario: parley quiet and flooded;
// accounts: parley without and with accounts). Speed is never asserted here;
// the figures only have to exist, and a flood may leave the honest pairs none.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Results } from "../../bench/report.ts";

const root = path.resolve(import.meta.dir, "../..");
let dir: string | undefined;

afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("bench", () => {
  test(
    "runs every scenario against parley and the raw relays, over TCP, TLS and WebSocket, and reports numbers",
    async () => {
      dir = mkdtempSync(path.join(tmpdir(), "parley-bench-"));
      const out = path.join(dir, "results.json");
      const args = ["--duration", "0.25", "--broadcast-duration", "0.25", "--warmup", "0.05", "--settle", "0.05", "--pairs", "2", "--inflight", "2"];
      args.push("--receivers", "2", "--users", "4", "--account-users", "4", "--large-bodies", "16384", "--transport", "tcp,tls,ws", "--quiet", "--json-out", out);
      const proc = Bun.spawn([process.execPath, "bench/run.ts", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toContain("| scenario");

      const results = JSON.parse(readFileSync(out, "utf8")) as Results;
      expect(results.machine.cores).toBeGreaterThan(0);
      expect(results.machine.bun).toBe(Bun.version);
      const labels = results.rows.map((row) => `${row.label} ${row.target}`);
      expect(labels).toEqual([
        "closed N=2 raw",
        "closed N=2 parley",
        "closed N=2 tls parley",
        "closed N=2 ws raw",
        "closed N=2 ws parley",
        "pipelined N=2 x2 raw",
        "pipelined N=2 x2 parley",
        "pipelined N=2 x2 tls parley",
        "pipelined N=2 x2 ws raw",
        "pipelined N=2 x2 ws parley",
        "broadcast M=2 raw",
        "broadcast M=2 parley",
        "scale U=4 raw",
        "scale U=4 parley",
        "large 16KiB x2 raw",
        "large 16KiB x2 parley",
        "attack N=2 quiet parley",
        "attack N=2 flooded parley",
        "accounts U=4 without parley",
        "accounts U=4 with parley",
      ]);
      for (const row of results.rows) {
        expect(row.error).toBeUndefined();
        expect(Number.isFinite(row.serverCpuPct)).toBe(true);
        expect(Number.isFinite(row.generatorCpuPct)).toBe(true);
        if (row.label.endsWith("flooded")) {
          expect(Number.isFinite(row.quietTxRatio)).toBe(true);
          expect(Number.isFinite(row.quietP99Ratio)).toBe(true);
          expect(row.attackerSent).toBeGreaterThanOrEqual(0);
          expect(row.attackerRefused).toBeGreaterThanOrEqual(0);
          expect(Number.isFinite(row.attackerCpuPct)).toBe(true);
          continue;
        }
        expect(row.txPerSec).toBeGreaterThan(0);
        expect(row.transport).toBe(row.label.endsWith(" tls") ? "tls" : row.label.endsWith(" ws") ? "ws" : "tcp");
        if (row.transport === "tls") {
          expect(row.tcpTxRatio).toBeGreaterThan(0);
          expect(row.tcpMicrosRatio).toBeGreaterThan(0);
        }
        if (row.label.endsWith(" with")) {
          expect(row.checkCpuMs).toBeGreaterThan(0);
          expect(row.withoutTxRatio).toBeGreaterThan(0);
          // Undefined when the run without accounts took under one 10 ms CPU tick (a smoke-sized window under load).
          if (row.withoutMicrosRatio !== undefined) expect(row.withoutMicrosRatio).toBeGreaterThan(0);
        }
        if (row.scenario === "scale") expect(Number.isFinite(row.rssPerUserKiB)).toBe(true);
        // CPU comes from /proc in 10 ms ticks: a smoke-sized run without accounts may take less than one.
        else if (row.scenario === "accounts") expect(row.serverMicrosPerTx).toBeGreaterThanOrEqual(row.label.endsWith(" with") ? 1 : 0);
        else expect(row.p99Ms).toBeGreaterThan(0);
        if (row.target === "parley" && row.scenario !== "attack" && row.scenario !== "accounts") {
          expect(row.ratio).toBeGreaterThan(0);
          // WebSocket rows against the raw WebSocket relay of their plan, the others against the raw TCP relay.
          const raw = results.rows.find((other) => other.target === "raw" && other.scenario === row.scenario && other.transport === (row.transport === "ws" ? "ws" : "tcp"));
          expect(row.rawServerMicrosPerTx).toBe(raw!.serverMicrosPerTx);
          expect(row.ratio).toBe(row.txPerSec / raw!.txPerSec);
        }
      }
    },
    30_000,
  );
});
