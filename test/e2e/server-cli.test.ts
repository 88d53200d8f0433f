// `parley server` as a real process: flags, PARLEY_* variables, help, exit
// codes, the log on stderr and signal handling (docs/protocol.md D22).

import { afterEach, describe, expect, test } from "bun:test";
import { Limits, type LimitName } from "../../src/protocol/limits.ts";
import { Peer, register } from "../support/peer.ts";
import { freePort, spawnServer, type Child, type ServerOptions } from "../support/process.ts";

const processes: Child[] = [];
const peers: Peer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  for (const proc of processes.splice(0)) await proc[Symbol.asyncDispose]();
});

/** spawnServer(), disposed after the test. */
async function run(args: readonly string[], options: ServerOptions = {}): Promise<Child & { readonly port: number }> {
  const proc = await spawnServer(args, options);
  processes.push(proc);
  return proc;
}

async function connect(port: number, label: string): Promise<Peer> {
  const peer = await Peer.connect(port, label);
  peers.push(peer);
  return peer;
}

/** Registers `name` on two connections and proves it with a message to itself. */
async function joinAndRoundTrip(port: number, name: string): Promise<{ sender: Peer; receiver: Peer }> {
  const sender = await connect(port, `${name}(send)`);
  const receiver = await connect(port, `${name}(recv)`);
  await register(sender, "TOSEND", name);
  await register(receiver, "TORECV", name);
  sender.send(`SEND ${name}\nContent-length: 2\n\nhi`);
  await receiver.receives(`FORWARD ${name}\nContent-length: 2\n\nhi`);
  receiver.send(`RECEIVED ${name}\n\n`);
  await sender.receives(`SENT ${name}\n\n`);
  return { sender, receiver };
}

/** A usage or startup failure is exactly one line on stderr. */
function expectOneLine(stderr: string, ...parts: string[]): void {
  const lines = stderr.split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe("");
  expect(lines[0]).toStartWith("parley: ");
  for (const part of parts) expect(lines[0]).toContain(part);
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe("parley server", () => {
  test("logs server.listening with the port it picked for --port 0, and serves the protocol there", async () => {
    const server = await run(["--port", "0"]);
    const line = await server.line("stderr", (text) => text.includes("server.listening"));
    expect(line).toMatch(/ info +server\.listening transport=tcp host=127\.0\.0\.1 port=\d+$/);
    const port = server.port;
    expect(port).toBeGreaterThan(0);
    await joinAndRoundTrip(port, "alice");
  });

  test("--help lists every flag with its default on stdout and exits 0", async () => {
    const server = await run(["--help"], { listen: false });
    const exitCode = await server.exit();
    expect(exitCode).toBe(0);
    expect(server.stderr).toBe("");
    const lines = server.stdout.split("\n");
    const expected: [string, string | number][] = [
      ["host", "127.0.0.1"],
      ["port", 5050],
      ...(Object.keys(Limits) as LimitName[]).map((name): [string, number] => [kebab(name), Limits[name].default]),
      ["log-level", "info"],
      ["log-format", "text"],
    ];
    for (const [flag, value] of expected) {
      const row = lines.find((line) => line.trimStart().startsWith(`--${flag} `));
      expect(row, `--${flag} is listed`).toBeDefined();
      expect(row).toContain(`(default: ${value})`);
      expect(row).toContain(`[PARLEY_${flag.replaceAll("-", "_").toUpperCase()}]`);
    }
    expect(lines.some((line) => line.trimStart().startsWith("--help"))).toBe(true);
  });

  test("-h prints the same help as --help", async () => {
    const long = await run(["--help"], { listen: false });
    const short = await run(["-h"], { listen: false });
    expect(await short.exit()).toBe(0);
    expect(await long.exit()).toBe(0);
    expect(short.stderr).toBe("");
    expect(short.stdout).toBe(long.stdout);
    expect(short.stdout).toContain("--help, -h");
  });

  test("points a usage error at parley server --help", async () => {
    const server = await run(["--colour"], { listen: false });
    expect(await server.exit()).toBe(2);
    expect(server.stderr).toBe('parley: unknown argument "--colour" (see parley server --help)\n');
  });

  describe("exits 2 with one line on stderr for a usage error", () => {
    const rows: [string, string[], string][] = [
      ["a port that is not a number", ["--port", "abc"], "--port"],
      ["a port out of range", ["--port=70000"], "--port"],
      ["a negative limit", ["--max-body-bytes", "-1"], "--max-body-bytes"],
      ["a timeout longer than a timer can wait", ["--register-timeout-ms", "3000000000"], "--register-timeout-ms"],
      ["a header limit too small for a valid SEND", ["--max-header-bytes", "32"], "--max-header-bytes"],
      ["an unknown log format", ["--log-format", "xml"], "--log-format"],
      ["a flag without its value", ["--ack-timeout-ms"], "--ack-timeout-ms"],
      ["an unknown flag", ["--colour"], "--colour"],
      ["a stray argument", ["8080"], "8080"],
      ["an unknown short flag", ["-x"], "-x"],
      ["a value given to a switch", ["--help=1"], "--help"],
    ];
    for (const [what, args, named] of rows) {
      test(`for ${what}`, async () => {
        const server = await run(args, { listen: false });
        const exitCode = await server.exit();
        expect(exitCode).toBe(2);
        expectOneLine(server.stderr, named);
        expect(server.stdout).toBe("");
      });
    }

    test("for a bad PARLEY_* value, naming the variable", async () => {
      const server = await run([], { env: { PARLEY_MAX_HEADER_BYTES: "lots" }, listen: false });
      const exitCode = await server.exit();
      expect(exitCode).toBe(2);
      expectOneLine(server.stderr, "PARLEY_MAX_HEADER_BYTES");
    });
  });

  test("exits 1 with one clear line when the port is in use", async () => {
    using taken = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const server = await run(["--port", String(taken.port)], { listen: false });
    const exitCode = await server.exit();
    expect(exitCode).toBe(1);
    expectOneLine(server.stderr, `127.0.0.1:${taken.port}`, "address already in use");
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`answers the SEND in flight, closes its clients and exits 0 within 2 s on ${signal}`, async () => {
      const server = await run(["--port", "0"]);
      const port = server.port;
      const alice = await joinAndRoundTrip(port, "alice");
      const bob = await joinAndRoundTrip(port, "bob");
      alice.sender.send("SEND bob\nContent-length: 1\n\nx");
      await bob.receiver.receives("FORWARD alice\nContent-length: 1\n\nx");

      const started = performance.now();
      server.kill(signal);
      const exitCode = await server.exit(2000);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(exitCode).toBe(0);
      await alice.sender.receives("ERROR 102 Unable to send\n\n");
      for (const peer of [alice.sender, alice.receiver, bob.sender, bob.receiver]) await peer.closes();
    });
  }

  test("--log-format json writes one JSON object per stderr line", async () => {
    const server = await run(["--port", "0", "--log-format", "json", "--log-level", "debug"]);
    const port = server.port;
    await joinAndRoundTrip(port, "alice");
    server.kill("SIGTERM");
    expect(await server.exit()).toBe(0);
    const lines = server.stderr.split("\n");
    expect(lines.pop()).toBe("");
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      expect(typeof record.time).toBe("string");
      expect(["error", "warn", "info", "debug"]).toContain(record.level as string);
      expect(typeof record.event).toBe("string");
    }
    const events = records.map((record) => record.event);
    expect(events).toContain("user.registered");
    expect(records.find((record) => record.event === "server.listening")).toMatchObject({ level: "info", host: "127.0.0.1", port });
    expect(events.at(-1)).toBe("server.stopped");
  });

  describe("PARLEY_* variables", () => {
    test("PARLEY_PORT sets the port", async () => {
      const wanted = freePort();
      const server = await run([], { env: { PARLEY_PORT: String(wanted) } });
      expect(server.port).toBe(wanted);
      await joinAndRoundTrip(wanted, "alice");
    });

    test("an empty PARLEY_PORT counts as unset", async () => {
      const server = await run(["--help"], { env: { PARLEY_PORT: "" }, listen: false });
      expect(await server.exit()).toBe(0);
    });

    test("--port overrides PARLEY_PORT", async () => {
      const ignored = freePort();
      const server = await run(["--port", "0"], { env: { PARLEY_PORT: String(ignored) } });
      expect(server.port).not.toBe(ignored);
    });

    test("a limit's variable reaches the server: PARLEY_MAX_HEADER_BYTES", async () => {
      const server = await run(["--port", "0"], { env: { PARLEY_MAX_HEADER_BYTES: "64" } });
      const port = server.port;
      const ok = await connect(port, "short");
      await register(ok, "TOSEND", "alice");
      const long = await connect(port, "long");
      long.send(`REGISTER TOSEND ${"b".repeat(50)}\n\n`);
      await long.receives("ERROR 103 Header incomplete\n\n");
      await long.closes();
    });
  });
});
