// The cluster scenario's bus: one nats-server (Debian's, as the cluster's
// tests use) with JetStream in a temporary directory, on a port it picks
// itself (`-p -1`), so a run never depends on 4222 being free. Its stderr is
// read for the whole run: a full pipe would block its logging.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { readLines, stopProcess, withDeadline } from "./processes.ts";

export type NatsServer = { proc: Subprocess<"ignore", "ignore", "pipe">; url: string; stop(): Promise<void> };

/** The nats-server on PATH, as `bun run test` and `bun run cluster` find it; undefined when it is not installed. */
export function natsServerPath(): string | undefined {
  return Bun.which("nats-server") ?? undefined;
}

export async function startNatsServer(): Promise<NatsServer> {
  const binary = natsServerPath();
  if (binary === undefined) throw new Error("nats-server is not installed (apt-get install nats-server)");
  const dir = mkdtempSync(path.join(tmpdir(), "parley-bench-nats-"));
  const proc = Bun.spawn([binary, "-js", "-a", "127.0.0.1", "-p", "-1", "-sd", dir], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const stop = async () => {
    await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  const tail: string[] = [];
  let port: number | undefined;
  const { promise: listening, resolve, reject } = Promise.withResolvers<number>();
  void readLines(proc.stderr, (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const match = /Listening for client connections on [\d.]+:(\d+)/.exec(line);
    if (match) port = Number(match[1]);
    // JetStream answers once the server says it is ready, a line after the port.
    if (line.includes("Server is ready") && port !== undefined) resolve(port);
  });
  void proc.exited.then((code) => reject(new Error(`nats-server exited with ${code} before listening: ${tail.join(" | ")}`)));
  try {
    return { proc, url: `nats://127.0.0.1:${await withDeadline(listening, 10_000, "nats-server start")}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
