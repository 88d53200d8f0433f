// `bun src/cli.ts server` as a real process for fault tests and the soak: its
// port read from the `server.listening` log line, its stderr kept and waited
// on line by line (with deadlines), its RSS and open sockets read from /proc.

import type { Subprocess } from "bun";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { Changes } from "./changes.ts";

export const root = join(import.meta.dir, "..", "..");
export const cli = join(root, "src", "cli.ts");

export class SpawnedServer implements AsyncDisposable {
  readonly args: readonly string[];
  readonly #proc: Subprocess<"ignore", "ignore", "pipe">;
  #stderr = "";
  #partial = "";
  #ended = false;
  /** Lines logged at error level: in parley those are bugs (connection.bug). */
  readonly errorLines: string[] = [];
  readonly #changes = new Changes();
  port = 0;

  private constructor(args: readonly string[]) {
    this.args = args;
    // PARLEY_* from the caller's environment must not change the server under test.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PARLEY_")));
    this.#proc = Bun.spawn([process.execPath, cli, "server", ...args], { cwd: root, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    void this.#read();
  }

  /** Starts the server (port 0 unless `--port` is in `args`) and waits until it listens. */
  static async start(args: readonly string[] = [], deadlineMs = 5000): Promise<SpawnedServer> {
    const server = new SpawnedServer(args.includes("--port") ? args : ["--port", "0", ...args]);
    try {
      const line = await server.line((l) => l.includes("server.listening"), deadlineMs);
      server.port = Number(/port=(\d+)/.exec(line)?.[1]);
    } catch (error) {
      server.#proc.kill("SIGKILL");
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get exited(): Promise<number> {
    return this.#proc.exited;
  }

  get exitCode(): number | null {
    return this.#proc.exitCode;
  }

  get signalCode(): Subprocess["signalCode"] {
    return this.#proc.signalCode;
  }

  kill(signal: NodeJS.Signals): void {
    this.#proc.kill(signal);
  }

  /** Waits for a whole stderr line that `match` accepts. */
  async line(match: (line: string) => boolean, deadlineMs = 5000): Promise<string> {
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const found = this.#stderr.split("\n").slice(0, -1).find(match);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (this.#ended || left <= 0) throw new Error(`server ${this.#ended ? "stderr ended" : `gave no such line in ${deadlineMs} ms`}; stderr:\n${this.#stderr.slice(-4000)}`);
      await this.#changes.next(left);
    }
  }

  /** Resident memory in MiB, from /proc/<pid>/status. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  }

  /** Open TCP sockets of the process (the listener included), from /proc/<pid>/fd. */
  openSockets(): number {
    let sockets = 0;
    for (const fd of readdirSync(`/proc/${this.pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${this.pid}/fd/${fd}`).startsWith("socket:")) sockets++;
      } catch {
        // closed while we looked
      }
    }
    return sockets;
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#proc.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.#stderr += text;
      const lines = (this.#partial + text).split("\n");
      this.#partial = lines.pop()!;
      for (const line of lines) if (/^\S+ error /.test(line) && this.errorLines.length < 100) this.errorLines.push(line);
      // Bounded: keep the first and the most recent output of a long soak.
      if (this.#stderr.length > 4_000_000) this.#stderr = this.#stderr.slice(0, 100_000) + "\n...\n" + this.#stderr.slice(-1_000_000);
      this.#changes.changed();
    }
    this.#ended = true;
    this.#changes.changed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill("SIGKILL");
    await this.#proc.exited;
  }
}

/** A fixture script as its own process, its stdout waited on line by line. */
export class SpawnedScript implements AsyncDisposable {
  readonly #proc: Subprocess<"ignore", "pipe", "inherit">;
  #stdout = "";
  #ended = false;
  readonly #changes = new Changes();

  constructor(script: string, args: readonly string[]) {
    this.#proc = Bun.spawn([process.execPath, script, ...args], { cwd: root, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    void this.#read();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  get stdout(): string {
    return this.#stdout;
  }

  kill(signal: NodeJS.Signals): void {
    this.#proc.kill(signal);
  }

  get exited(): Promise<number> {
    return this.#proc.exited;
  }

  /** Waits for `count` whole stdout lines that `match` accepts, and returns them. */
  async lines(match: (line: string) => boolean, count = 1, deadlineMs = 5000): Promise<string[]> {
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const found = this.#stdout.split("\n").slice(0, -1).filter(match);
      if (found.length >= count) return found.slice(0, count);
      const left = deadline - performance.now();
      if (this.#ended || left <= 0) throw new Error(`fixture ${this.#ended ? "ended" : `timed out after ${deadlineMs} ms`} with ${found.length} of ${count} lines; stdout:\n${this.#stdout.slice(-2000)}`);
      await this.#changes.next(left);
    }
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#proc.stdout) {
      this.#stdout += decoder.decode(chunk, { stream: true });
      this.#changes.changed();
    }
    this.#ended = true;
    this.#changes.changed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill("SIGKILL");
    await this.#proc.exited;
  }
}
