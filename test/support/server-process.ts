// `bun src/cli.ts server ...` as a real child process, with its stderr read as
// it arrives so a test can wait (with a deadline) for one log line. Disposing
// it kills the process if it is still running.

import type { Subprocess } from "bun";
import { join } from "node:path";
import { Changes } from "./changes.ts";

const root = join(import.meta.dir, "..", "..");
const cli = join(root, "src", "cli.ts");

export type ExitResult = { readonly exitCode: number | null; readonly signalCode: Subprocess["signalCode"] };

export class ServerProcess implements AsyncDisposable {
  readonly #proc: Subprocess<"ignore", "pipe", "pipe">;
  #stderr = "";
  #stderrDone = false;
  readonly #changes = new Changes();
  readonly stdout: Promise<string>;

  /** Runs `parley server <args>` with only the PARLEY_* variables in `env` (none leak in from the test's environment). */
  constructor(args: readonly string[], env: Record<string, string> = {}) {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PARLEY_")));
    this.#proc = Bun.spawn([process.execPath, cli, "server", ...args], {
      cwd: root,
      env: { ...clean, ...env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.stdout = new Response(this.#proc.stdout).text();
    void this.#pump();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Waits for a complete stderr line that `match` accepts, and returns it. */
  async line(match: (line: string) => boolean, deadlineMs = 5000): Promise<string> {
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const found = this.#stderr.split("\n").slice(0, -1).find(match);
      if (found !== undefined) return found;
      if (this.#stderrDone) throw new Error(`stderr ended without the line; it was:\n${this.#stderr}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${deadlineMs} ms waiting for a stderr line; stderr so far:\n${this.#stderr}`);
      await this.#changes.next(left);
    }
  }

  /** The port from the server.listening line, in either log format. */
  async listeningPort(deadlineMs = 5000): Promise<number> {
    const line = await this.line((text) => text.includes("server.listening"), deadlineMs);
    const port = /"port":(\d+)/.exec(line)?.[1] ?? /\bport=(\d+)/.exec(line)?.[1];
    if (port === undefined) throw new Error(`no port in ${JSON.stringify(line)}`);
    return Number(port);
  }

  signal(signal: NodeJS.Signals): void {
    this.#proc.kill(signal);
  }

  /** Waits for the process to exit, at most `deadlineMs`, and for its stderr to end. */
  async exit(deadlineMs = 5000): Promise<ExitResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${deadlineMs} ms; stderr:\n${this.#stderr}`)), deadlineMs);
    });
    try {
      await Promise.race([this.#proc.exited, late]);
    } finally {
      clearTimeout(timer);
    }
    while (!this.#stderrDone) await this.#changes.next(1000);
    return { exitCode: this.#proc.exitCode, signalCode: this.#proc.signalCode };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill("SIGKILL");
    await this.#proc.exited;
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#proc.stderr) {
        this.#stderr += decoder.decode(chunk, { stream: true });
        this.#changes.changed();
      }
    } catch {
      // The pipe broke because the process was killed: what was read is kept.
    }
    this.#stderrDone = true;
    this.#changes.changed();
  }

}

/** A port nothing listens on right now (the kernel's pick, released at once). */
export function freePort(): number {
  const probe = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
