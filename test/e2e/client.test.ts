// `parley client` from source, as real processes against a real server process.

import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { jsonEvents } from "../../src/client/scripted-output.ts";
import { Child, fromSource, root, spawnServer } from "../support/process.ts";
import { chatTests } from "./chat.ts";

chatTests("parley client from source", () => fromSource);

describe("parley client from source, scripted mode", () => {
  const running: Child[] = [];
  afterEach(async () => {
    for (const child of running.splice(0).reverse()) await child[Symbol.asyncDispose]();
  });

  async function server() {
    const started = await spawnServer();
    running.push(started);
    return { port: started.port, stop: () => started.stop() };
  }

  function client(args: readonly string[], stdin: string | "pipe" | "ignore" = "pipe", env: Record<string, string> = {}): Child {
    const child = new Child([...fromSource, "client", ...args], { stdin, env });
    running.push(child);
    return child;
  }

  test("prints one JSON object per event with --json", async () => {
    const { port } = await server();
    const bob = client(["--port", String(port), "--user", "bob", "--json", "--listen"], "ignore", { PARLEY_HOST: "127.0.0.1" });
    await bob.line("stdout", '"event":"connected"');

    const alice = client(["--host", "127.0.0.1", "--port", String(port), "--user", "alice", "--json"], "@bob hi \x1b[31mbob\n@nobody x\nnot a message\n");
    expect(await alice.exit()).toBe(1);
    const events = alice.stdoutLines.map((line) => JSON.parse(line));
    expect(events).toEqual([
      { event: "connected", user: "alice", host: "127.0.0.1", port, reconnected: false },
      { event: "delivered", line: 1, to: "bob", text: "hi \x1b[31mbob" },
      { event: "failed", line: 2, to: "nobody", text: "x", reason: "unable-to-send", because: "offline", message: "not online" },
      { event: "invalid", line: 3, hint: expect.stringContaining("@name message") },
    ]);
    // The escape travels as JSON's \u001b, never raw.
    expect(alice.stdout).not.toContain("\x1b");

    await bob.line("stdout", '"event":"received"');
    bob.kill("SIGTERM");
    expect(await bob.exit()).toBe(0);
    expect(bob.stdoutLines.map((line) => JSON.parse(line))).toEqual([
      { event: "connected", user: "bob", host: "127.0.0.1", port, reconnected: false },
      { event: "received", from: "alice", text: "hi \x1b[31mbob", bytes: 11 },
    ]);
  });

  test("answers /who and, with --presence, reports who arrives and leaves as JSON events", async () => {
    const { port } = await server();
    const watcher = client(["--host", "127.0.0.1", "--port", String(port), "--user", "wendy", "--json", "--presence", "--listen"], "ignore");
    await watcher.line("stdout", '"event":"connected"');
    const asker = client(["--host", "127.0.0.1", "--port", String(port), "--user", "Zed", "--json"], "/who\n");
    expect(await asker.exit()).toBe(0);
    expect(asker.stdoutLines.map((line) => JSON.parse(line))[1]).toEqual({ event: "who", total: 2, online: ["wendy", "Zed"] });
    await watcher.line("stdout", '"event":"offline"');
    watcher.kill("SIGTERM");
    expect(await watcher.exit()).toBe(0);
    expect(watcher.stdoutLines.map((line) => JSON.parse(line)).slice(1)).toEqual([
      { event: "online", user: "Zed" },
      { event: "offline", user: "Zed" },
    ]);
  });

  test("shows escapes in received messages escaped in text mode", async () => {
    const { port } = await server();
    const bob = client(["--host", "127.0.0.1", "--port", String(port), "--user", "bob", "--listen"], "ignore");
    await bob.line("stderr", "connected to");
    const alice = client(["--host", "127.0.0.1", "--port", String(port), "--user", "alice"], "@bob \x1b]0;pwned\x07\x1b[2Jgotcha\n");
    expect(await alice.exit()).toBe(0);
    expect(await bob.line("stdout", "[alice]")).toBe("[alice] \\x1b]0;pwned\\x07\\x1b[2Jgotcha");
    expect(bob.stdout).not.toContain("\x1b");
  });

  test("takes the port in --host (--host 127.0.0.1:PORT)", async () => {
    const { port } = await server();
    const alice = client(["--host", `127.0.0.1:${port}`, "--user", "alice"], "@alice hi me\n");
    expect(await alice.exit()).toBe(0);
    expect(alice.stdoutLines).toEqual(["[alice] hi me", "delivered: @alice hi me"]);
    expect(alice.stderr).toBe(`connected to 127.0.0.1:${port} as alice\n`);
  });

  test("says a message is too long for a server with a smaller limit, without losing the connection or the next message", async () => {
    const started = await spawnServer(["--max-body-bytes", "1000"]);
    running.push(started);
    const bob = client(["--host", "127.0.0.1", "--port", String(started.port), "--user", "bob", "--listen"], "ignore");
    await bob.line("stderr", "connected to");
    const alice = client(["--host", "127.0.0.1", "--port", String(started.port), "--user", "alice"], `@bob before\n@bob ${"x".repeat(2000)}\n@bob after\n`);
    expect(await alice.exit()).toBe(1);
    expect(alice.stdoutLines).toEqual([
      "delivered: @bob before",
      `not delivered: @bob ${"x".repeat(57)}... (too long for this server: at most 1000 bytes)`,
      "delivered: @bob after",
    ]);
    expect(alice.stderr).not.toContain("connection lost");
    expect(bob.stdoutLines).toEqual(["[alice] before", "[alice] after"]);
  });

  test("sends messages over 64 KiB to a server that takes them", async () => {
    const started = await spawnServer(["--max-body-bytes", "100000"]);
    running.push(started);
    const bob = client(["--host", "127.0.0.1", "--port", String(started.port), "--user", "bob", "--json", "--listen"], "ignore");
    await bob.line("stdout", '"event":"connected"');
    const alice = client(["--host", "127.0.0.1", "--port", String(started.port), "--user", "alice"], `@bob ${"y".repeat(70_000)}\n`);
    expect(await alice.exit()).toBe(0);
    expect(JSON.parse(await bob.line("stdout", '"event":"received"')).bytes).toBe(70_000);
  });

  test("with --json, reports a failed first connection as a JSON event on stdout too", async () => {
    const { port, stop } = await server();
    await stop();
    const alice = client(["--host", "127.0.0.1", "--port", String(port), "--user", "alice", "--json"], "@bob hi\n");
    expect(await alice.exit()).toBe(1);
    expect(alice.stdoutLines.map((line) => JSON.parse(line))).toEqual([
      { event: "connect-failed", error: "unreachable", message: `cannot reach the server at 127.0.0.1:${port}: connection refused` },
    ]);
  });

  test("exits 2 for a --user that is not a username, before connecting", async () => {
    const alice = client(["--port", "1", "--user", "bad name"], "@bob hi\n");
    expect(await alice.exit()).toBe(2);
    expect(alice.stderr).toBe('parley: --user: expected 1 to 32 letters and digits (not ALL), got "bad name" (see parley client --help)\n');
  });

  test("lists in --help every JSON event the README lists", async () => {
    const readme = await Bun.file(join(root, "README.md")).text();
    let paragraph = /\nEvents: ([\s\S]*?)\n\n/.exec(readme)?.[1] ?? "";
    // An event's fields are in parentheses after it, some of them nested.
    while (/\([^()]*\)/.test(paragraph)) paragraph = paragraph.replace(/\([^()]*\)/g, "");
    const events = [...paragraph.matchAll(/`([a-z][a-z-]*)`/g)].map((match) => match[1]!);
    expect(events).toEqual([...jsonEvents]);
    const help = client(["--help"], "ignore");
    expect(await help.exit()).toBe(0);
    const row = help.stdout.split("\n").find((line) => line.startsWith("  --json "))!;
    for (const event of events) expect(row).toMatch(new RegExp(`\\b${event}\\b`));
  });

  test("exits 1 with one clear line when the server is unreachable", async () => {
    const { port, stop } = await server();
    await stop(); // the port is now closed
    const alice = client(["--host", "127.0.0.1", "--port", String(port), "--user", "alice"], "@bob hi\n");
    expect(await alice.exit()).toBe(1);
    expect(alice.stderr).toBe(`parley: cannot reach the server at 127.0.0.1:${port}: connection refused\n`);
    expect(alice.stdout).toBe("");
  });

  test("exits 2 when no user is given and stdin is not a terminal", async () => {
    const alice = client(["--port", "1"], "@bob hi\n");
    expect(await alice.exit()).toBe(2);
    expect(alice.stderr).toContain("--user");
  });

  test("exits 1 when the connection is lost with --no-reconnect", async () => {
    const { port, stop } = await server();
    const alice = client(["--host", "127.0.0.1", "--port", String(port), "--user", "alice", "--listen", "--no-reconnect"], "ignore");
    await alice.line("stderr", "connected to");
    await stop();
    expect(await alice.exit()).toBe(1);
    expect(alice.stderr).toContain("connection lost");
  });

  test("PARLEY_JSON=1 and PARLEY_LISTEN=true work as --json --listen", async () => {
    const { port } = await server();
    const bob = client(["--host", "127.0.0.1", "--port", String(port), "--user", "bob"], "ignore", { PARLEY_JSON: "1", PARLEY_LISTEN: "true" });
    await bob.line("stdout", '"event":"connected"');
    expect(bob.stdout).toStartWith("{");
  });

  test("exits 2 with one line naming the variable for PARLEY_NO_RECONNECT=yes", async () => {
    const alice = client(["--user", "alice"], "@bob hi\n", { PARLEY_NO_RECONNECT: "yes" });
    expect(await alice.exit()).toBe(2);
    expect(alice.stderr).toBe('parley: PARLEY_NO_RECONNECT: expected 1, true, 0 or false, got "yes" (see parley client --help)\n');
    expect(alice.stdout).toBe("");
  });

  test("exits 2 with one line pointing at parley client --help for an unknown flag", async () => {
    const alice = client(["--colour"], "@bob hi\n");
    expect(await alice.exit()).toBe(2);
    expect(alice.stderr).toBe('parley: unknown argument "--colour" (see parley client --help)\n');
    expect(alice.stdout).toBe("");
  });

  test("-h prints the same help as --help", async () => {
    const long = client(["--help"], "ignore");
    const short = client(["-h"], "ignore");
    expect(await short.exit()).toBe(0);
    expect(await long.exit()).toBe(0);
    expect(short.stdout).toBe(long.stdout);
    expect(short.stdout).toContain("--help, -h");
  });

  test("lists every flag with its default in --help", async () => {
    const help = client(["--help"], "ignore");
    expect(await help.exit()).toBe(0);
    for (const flag of ["--host", "--port", "--user", "--listen", "--json", "--no-reconnect", "--help", "--tls", "--tls-ca", "--tls-insecure", "default: 5050", "5443 with --tls", "PARLEY_USER", "NO_COLOR"]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
