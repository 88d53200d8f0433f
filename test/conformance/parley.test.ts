// `parley conformance` against parley itself, a real server process: every
// check of the contract, version 2 and parley's own decisions passes, which
// is also how CI holds the kit and the server to each other.

import { describe, expect, test } from "bun:test";
import { checks } from "../../src/conformance/checks.ts";
import { Child, fromSource, spawnServer } from "../support/process.ts";
import { kitSeed, runKit } from "./kit.ts";

/** Checks that need a server limit the kit cannot set (ackTimeoutMs 150, maxPendingForwards 2). */
const needLimits = ["failure.ack-deadline", "failure.full-queue"];

describe("parley conformance against parley", () => {
  test("passes every check with --extensions --strict, skipping only those that need a limit set, and exits 0", async () => {
    await using server = await spawnServer();
    const run = await runKit(server.port, ["--extensions", "--strict"]);
    expect([...run.checks.keys()]).toEqual(checks.map((check) => check.id));
    expect({ fail: run.of("fail"), deviation: run.of("deviation"), differs: run.of("differs"), skip: run.of("skip") }).toEqual({ fail: [], deviation: [], differs: [], skip: needLimits });
    expect(run.summary.exit).toBe(0);
    expect(run.code).toBe(0);
  }, 40_000);

  test("prints the seed, a heading per section, one line per check and a summary", async () => {
    await using server = await spawnServer();
    await using kit = new Child([...fromSource, "conformance", `127.0.0.1:${server.port}`, "--seed", String(kitSeed)]);
    expect(await kit.exit(30_000)).toBe(0);
    const lines = kit.stdoutLines;
    expect(lines[0]).toBe(`parley conformance 127.0.0.1:${server.port}: seed ${kitSeed}, 2000 ms per step`);
    expect(lines[1]).toStartWith("contract (PROTOCOL.md §1-5)");
    expect(lines[2]).toMatch(/^PASS +§1 +connect: accepts a connection$/);
    expect(lines).toContain("SKIP       §6   names.any-case: takes names in any case and answers in the spelling that registered -> version 2: run with --extensions");
    expect(lines.filter((line) => /^(PASS|FAIL|DEVIATION|DIFFERS|SKIP) /.test(line))).toHaveLength(checks.length);
    expect(lines.at(-1)).toBe(`summary: contract: 33 pass, 0 fail, 0 deviation, 2 skip | version 2: 0 pass, 0 fail, 0 deviation, 2 skip | parley: 5 pass, 0 differs, 4 skip | seed ${kitSeed} | exit 0`);
  }, 40_000);

  test("--only runs the checks and groups named, after the gates", async () => {
    await using server = await spawnServer();
    const run = await runKit(server.port, ["--only", "delivery.example,broadcast"]);
    expect([...run.checks.keys()]).toEqual([
      "connect",
      "register.roles",
      "delivery.example",
      "delivery.example/single-connection",
      "broadcast.all",
      "broadcast.one-fails",
      "broadcast.nobody",
      "broadcast.half-registered",
      "broadcast.recipient-leaves",
    ]);
    expect(run.of("pass")).toHaveLength(9);
  }, 40_000);

  test.each([
    [[], "which server? give HOST:PORT"],
    [["localhost"], 'expected HOST:PORT (such as 127.0.0.1:5050), got "localhost"'],
    [["127.0.0.1:70000"], 'expected HOST:PORT (such as 127.0.0.1:5050), got "127.0.0.1:70000"'],
    [["127.0.0.1:5050", "--only", "delivery.nothing"], '--only: no check is named "delivery.nothing"'],
    [["127.0.0.1:5050", "--timeout-ms", "0"], "--timeout-ms: expected a whole number from 1 to 600000"],
    [["127.0.0.1:5050", "--bogus"], 'unknown argument "--bogus"'],
  ])("refuses %j with one line and exit code 2", async (args, message) => {
    await using kit = new Child([...fromSource, "conformance", ...args]);
    expect(await kit.exit()).toBe(2);
    expect(kit.stdout).toBe("");
    expect(kit.stderr).toStartWith(`parley: ${message}`);
    expect(kit.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  test("--help lists the flags, with no environment variables, and every check", async () => {
    await using kit = new Child([...fromSource, "conformance", "--help"]);
    expect(await kit.exit()).toBe(0);
    for (const flag of ["--json", "--only", "--strict", "--extensions", "--seed", "--timeout-ms"]) expect(kit.stdout).toContain(flag);
    // A PARLEY_JSON meant for the client must not change what the kit prints.
    expect(kit.stdout).toContain("\nFlags:\n");
    expect(kit.stdout).not.toContain("PARLEY_");
    for (const check of checks) expect(kit.stdout).toContain(`  ${check.id} `);
  });
});
