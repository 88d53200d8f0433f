// A real child process for end-to-end tests: stdout and stderr read as they
// arrive, so a test can wait (with a deadline) for a line; stdin written and
// ended on demand; killed on dispose if still running.

import type { Subprocess } from "bun";
import { join } from "node:path";
import { Changes } from "./changes.ts";

export const root = join(import.meta.dir, "..", "..");
/** `bun src/cli.ts`: the entry point `bun run server` and `bun run client` run. */
export const fromSource: readonly string[] = [process.execPath, join(root, "src", "cli.ts")];

type Stream = "stdout" | "stderr";

export type ChildOptions = {
  /** Text written to stdin and then ended; "pipe" keeps stdin open for write(); "ignore" gives /dev/null. */
  readonly stdin?: string | "pipe" | "ignore";
  /** PARLEY_* and NO_COLOR from the test's environment never leak in; add them here. */
  readonly env?: Record<string, string>;
};

export class Child implements AsyncDisposable {
  readonly label: string;
  readonly #proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  readonly #text: Record<Stream, string> = { stdout: "", stderr: "" };
  #open = 2;
  readonly #changes = new Changes();

  constructor(command: readonly string[], options: ChildOptions = {}, label = command.slice(-3).join(" ")) {
    this.label = label;
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PARLEY_") && key !== "NO_COLOR"));
    const input = options.stdin ?? "ignore";
    this.#proc = Bun.spawn([...command], {
      cwd: root,
      env: { ...clean, ...options.env },
      stdin: input === "ignore" ? "ignore" : "pipe",
      stdout: "pipe",
      stderr: "pipe",
    }) as Subprocess<"pipe" | "ignore", "pipe", "pipe">;
    if (input !== "ignore" && input !== "pipe") {
      this.write(input);
      this.endInput();
    }
    void this.#pump("stdout");
    void this.#pump("stderr");
  }

  get stdout(): string {
    return this.#text.stdout;
  }

  get stderr(): string {
    return this.#text.stderr;
  }

  /** Complete lines written to stdout so far. */
  get stdoutLines(): string[] {
    return this.#text.stdout.split("\n").slice(0, -1);
  }

  write(text: string): void {
    const stdin = this.#proc.stdin;
    if (typeof stdin !== "object" || stdin === null) throw new Error(`${this.label}: stdin is not a pipe`);
    stdin.write(text);
    stdin.flush();
  }

  endInput(): void {
    const stdin = this.#proc.stdin;
    if (typeof stdin === "object" && stdin !== null) stdin.end();
  }

  signal(signal: NodeJS.Signals): void {
    this.#proc.kill(signal);
  }

  /** Waits for a complete line on `stream` that `match` accepts, and returns it. */
  async line(stream: Stream, match: string | ((line: string) => boolean), deadlineMs = 5000): Promise<string> {
    const accepts = typeof match === "string" ? (line: string) => line.includes(match) : match;
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const found = this.#text[stream].split("\n").slice(0, -1).find(accepts);
      if (found !== undefined) return found;
      if (this.#open === 0) throw new Error(`${this.label}: ${stream} ended without the line ${String(match)}\n${this.#describe()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.label}: timed out after ${deadlineMs} ms waiting for ${String(match)} on ${stream}\n${this.#describe()}`);
      await this.#changes.next(left);
    }
  }

  /** Waits until everything `stream` has written so far satisfies `accepts` (for output that is not whole lines, such as a prompt). */
  async output(stream: Stream, accepts: (text: string) => boolean, what: string, deadlineMs = 5000): Promise<void> {
    const deadline = performance.now() + deadlineMs;
    while (!accepts(this.#text[stream])) {
      if (this.#open === 0) throw new Error(`${this.label}: ${stream} ended before ${what}\n${this.#describe()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.label}: timed out after ${deadlineMs} ms waiting for ${what} on ${stream}\n${this.#describe()}`);
      await this.#changes.next(left);
    }
  }

  /** Waits for the exit (at most `deadlineMs`) and for both streams to end; returns the exit code. */
  async exit(deadlineMs = 5000): Promise<number | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs)));
    const result = await Promise.race([this.#proc.exited, late]);
    clearTimeout(timer);
    if (result === "late") throw new Error(`${this.label}: still running after ${deadlineMs} ms\n${this.#describe()}`);
    while (this.#open > 0) await this.#changes.next(1000);
    return this.#proc.exitCode;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill("SIGKILL");
    await this.#proc.exited;
  }

  #describe(): string {
    return `stdout: ${JSON.stringify(this.#text.stdout)}\nstderr: ${JSON.stringify(this.#text.stderr)}`;
  }

  async #pump(stream: Stream): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#proc[stream]) {
        this.#text[stream] += decoder.decode(chunk, { stream: true });
        this.#changes.changed();
      }
    } finally {
      this.#open--;
      this.#changes.changed();
    }
  }

}

/** A parley server (from source or the binary) on a free port, ready once it logged server.listening. */
export async function startServerProcess(parley: readonly string[], flags: readonly string[] = []): Promise<{ child: Child; port: number; stop(): Promise<void> }> {
  const child = new Child([...parley, "server", "--host", "127.0.0.1", "--port", "0", ...flags], {}, "server");
  const line = await child.line("stderr", "server.listening");
  const port = Number(/\bport=(\d+)/.exec(line)?.[1]);
  if (!(port > 0)) throw new Error(`no port in ${JSON.stringify(line)}`);
  return {
    child,
    port,
    async stop() {
      child.signal("SIGTERM");
      await child.exit();
    },
  };
}
