// Real child processes for the end-to-end, fault and soak runs: `parley server`
// through spawnServer(), clients and fixture scripts through Child. Output is
// read as it arrives, so a test waits (with a deadline) for a line; stdin is
// written and ended on demand; disposing kills whatever still runs.

import type { Subprocess } from "bun";
import { join } from "node:path";
import { Changes } from "./changes.ts";

export const root = join(import.meta.dir, "..", "..");
/** `bun src/cli.ts`: the entry point `bun run server` and `bun run client` run. */
export const fromSource: readonly string[] = [process.execPath, join(root, "src", "cli.ts")];

type Stream = "stdout" | "stderr";

export type ChildOptions = {
  /** Text written to stdin and then ended; "pipe" keeps stdin open for write(); "ignore" (the default) gives /dev/null. */
  readonly stdin?: string | "pipe" | "ignore";
  /** PARLEY_* and NO_COLOR from the test's environment never leak in; add them here. */
  readonly env?: Record<string, string>;
  /** Sees every whole line as it arrives, even once the kept text is trimmed (the soak's hours of log). */
  readonly onLine?: (stream: Stream, line: string) => void;
};

export class Child implements AsyncDisposable {
  readonly label: string;
  /** The Bun subprocess, for what this class does not wrap (pid, exited, signalCode). */
  readonly proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  readonly #text: Record<Stream, string> = { stdout: "", stderr: "" };
  #open = 2;
  readonly #changes = new Changes();

  constructor(command: readonly string[], options: ChildOptions = {}, label = command.slice(-3).join(" ")) {
    this.label = label;
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PARLEY_") && key !== "NO_COLOR"));
    const input = options.stdin ?? "ignore";
    this.proc = Bun.spawn([...command], {
      cwd: root,
      env: { ...clean, ...options.env },
      stdin: input === "ignore" ? "ignore" : "pipe",
      stdout: "pipe",
      stderr: "pipe",
    }) as Subprocess<"pipe" | "ignore", "pipe", "pipe">;
    void this.proc.exited.then(() => this.#changes.changed());
    if (input !== "ignore" && input !== "pipe") {
      this.write(input);
      this.endInput();
    }
    void this.#pump("stdout", options.onLine);
    void this.#pump("stderr", options.onLine);
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
    const stdin = this.proc.stdin;
    if (typeof stdin !== "object" || stdin === null) throw new Error(`${this.label}: stdin is not a pipe`);
    stdin.write(text);
    stdin.flush();
  }

  endInput(): void {
    const stdin = this.proc.stdin;
    if (typeof stdin === "object" && stdin !== null) stdin.end();
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  /** SIGTERM, then the exit code (at most `deadlineMs` later). */
  async stop(deadlineMs = 5000): Promise<number | null> {
    this.kill("SIGTERM");
    return this.exit(deadlineMs);
  }

  /** Waits for a complete line on `stream` that `match` accepts (a string: contains it), and returns it. */
  async line(stream: Stream, match: string | ((line: string) => boolean), deadlineMs = 5000): Promise<string> {
    const accepts = typeof match === "string" ? (line: string) => line.includes(match) : match;
    let found: string | undefined;
    await this.output(stream, (text) => (found = text.split("\n").slice(0, -1).find(accepts)) !== undefined, `a line ${String(match)}`, deadlineMs);
    return found!;
  }

  /** Waits until everything `stream` has written so far satisfies `accepts` (also for output that is not whole lines, such as a prompt). */
  async output(stream: Stream, accepts: (text: string) => boolean, what: string, deadlineMs = 5000): Promise<void> {
    await this.#changes.until(() => accepts(this.#text[stream]) || this.#open === 0, deadlineMs, () => `${this.label}: waiting for ${what} on ${stream}\n${this.#describe()}`);
    if (!accepts(this.#text[stream])) throw new Error(`${this.label}: ${stream} ended before ${what}\n${this.#describe()}`);
  }

  /** Waits (at most `deadlineMs`) for the exit and for both streams to end; returns the exit code (null after a signal). */
  async exit(deadlineMs = 5000): Promise<number | null> {
    const exited = () => this.proc.exitCode !== null || this.proc.signalCode !== null;
    await this.#changes.until(() => exited() && this.#open === 0, deadlineMs, () => `${this.label}: still running\n${this.#describe()}`);
    return this.proc.exitCode;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
    await this.proc.exited;
  }

  #describe(): string {
    return `stdout: ${JSON.stringify(this.#text.stdout.slice(-2000))}\nstderr: ${JSON.stringify(this.#text.stderr.slice(-4000))}`;
  }

  async #pump(stream: Stream, onLine: ChildOptions["onLine"]): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    try {
      for await (const chunk of this.proc[stream]) {
        const text = decoder.decode(chunk, { stream: true });
        this.#text[stream] += text;
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const line of lines) onLine?.(stream, line);
        // Bounded: keep the first and the most recent output of a long soak.
        if (this.#text[stream].length > 4_000_000) this.#text[stream] = this.#text[stream].slice(0, 100_000) + "\n...\n" + this.#text[stream].slice(-1_000_000);
        this.#changes.changed();
      }
    } catch {
      // The pipe broke because the process was killed: what was read is kept.
    } finally {
      this.#open--;
      this.#changes.changed();
    }
  }
}

export type ServerOptions = ChildOptions & {
  /** The parley command: from source unless given (the compiled binary). */
  readonly parley?: readonly string[];
  /** false: resolve at once, with the arguments exactly as given (runs that must fail). */
  readonly listen?: boolean;
  /** Runs it under `ulimit -n` this many files (soft and hard). */
  readonly fileLimit?: number;
};

/**
 * The one way to start `parley server` as a process: on port 0 unless `args`
 * or PARLEY_PORT name one, resolved once it logged server.listening, with the
 * port from that line (text or JSON log).
 */
export async function spawnServer(args: readonly string[] = [], options: ServerOptions = {}): Promise<Child & { readonly port: number }> {
  const listen = options.listen ?? true;
  const portGiven = args.some((arg) => arg.startsWith("--port")) || options.env?.PARLEY_PORT !== undefined;
  const limit = options.fileLimit === undefined ? [] : ["sh", "-c", `ulimit -n ${options.fileLimit} && exec "$@"`, "sh"];
  // HTTP is on by default (port 5080), and HTTPS with a certificate (5444): servers run side by side, so each takes a free port unless told.
  const given = (name: string) => args.some((arg) => arg.startsWith(`--${name}-port`) || arg === `--no-${name}`) || options.env?.[`PARLEY_${name.toUpperCase()}_PORT`] !== undefined;
  const freeWebPorts = ["http", "https"].filter((name) => !given(name)).flatMap((name) => [`--${name}-port`, "0"]);
  const command = [...limit, ...(options.parley ?? fromSource), "server", ...(listen && !portGiven ? ["--port", "0"] : []), ...freeWebPorts, ...args];
  const server = Object.assign(new Child(command, options, "server"), { port: 0 });
  if (!listen) return server;
  try {
    const line = await server.line("stderr", "server.listening");
    server.port = Number(/"port":(\d+)/.exec(line)?.[1] ?? /\bport=(\d+)/.exec(line)?.[1]);
    if (!(server.port > 0)) throw new Error(`no port in ${JSON.stringify(line)}`);
  } catch (error) {
    await server[Symbol.asyncDispose]();
    throw error;
  }
  return server;
}

/** A port nothing listens on right now (the kernel's pick, released at once). */
export function freePort(): number {
  const probe = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
