// `parley conformance` against deliberately broken servers (parley behind a
// proxy that breaks one rule, fixtures/broken-server.ts): each is reported
// precisely, by the checks that rule touches and the kind of each.

import { describe, expect, test } from "bun:test";
import { checks } from "../../src/conformance/checks.ts";
import { startBroken } from "./fixtures/broken-server.ts";
import { runKit, type KitRun } from "./kit.ts";

/** Every contract check whose transcript waits for a SENT (without --extensions). */
const answeredSent = [
  "register.taken",
  "register.pipelined",
  "delivery.example",
  "delivery.example/single-connection",
  "delivery.self",
  "delivery.verb-like-body",
  "delivery.every-byte",
  "delivery.empty-body",
  "delivery.lenient-input",
  "delivery.stray-answer",
  "delivery.pipelined",
  "delivery.answer-order",
  "broadcast.all",
  "broadcast.half-registered",
  "failure.recipient-leaves",
];

/** parley's decisions whose transcripts wait for a SENT. */
const decisionsAnsweredSent = ["delivery.behind-register", "failure.sender-leaves", "failure.sender-half-closes"];

/** The checks that write several messages in one write (and need more than the first). */
const coalesced = ["register.pipelined", "delivery.pipelined", "delivery.answer-order"];

function details(run: KitRun, ids: readonly string[]): string[] {
  return ids.map((id) => run.checks.get(id)?.detail ?? "");
}

describe("parley conformance against broken servers", () => {
  test("a server that answers SEND for SENT: a DEVIATION named send-for-sent on every check that waits for SENT, exit 0; exit 1 with --strict", async () => {
    await using server = await startBroken("send-for-sent");
    const run = await runKit(server.port);
    expect(run.of("deviation"), `seed ${run.seed}`).toEqual(answeredSent);
    expect(run.of("fail")).toEqual([]);
    for (const id of answeredSent) {
      const check = run.checks.get(id)!;
      expect(check.deviations).toEqual(["send-for-sent"]);
      expect(check.detail).toMatch(/^send-for-sent: \S+ received "SEND \w+\\n\\n" for "SENT \w+\\n\\n"$/);
    }
    // parley's decisions refuse every lenient reading, and never fail the server for it.
    expect(run.of("differs")).toEqual(decisionsAnsweredSent);
    expect(run.summary.exit).toBe(0);
    expect(run.code).toBe(0);
    // One check at a time, each closing what it opened: never more than two checks' connections open at once.
    expect(server.mostOpen()).toBeLessThanOrEqual(12);

    const strict = await runKit(server.port, ["--strict"]);
    expect(strict.of("deviation")).toEqual(answeredSent);
    expect(strict.summary.exit).toBe(1);
    expect(strict.code).toBe(1);
  }, 60_000);

  test("a server that reads one message per read: FAILs exactly the checks that write several messages in one write, and says so", async () => {
    await using server = await startBroken("one-message-per-read");
    const run = await runKit(server.port, ["--timeout-ms", "300"]);
    expect(run.of("fail"), `seed ${run.seed}`).toEqual(coalesced);
    expect(run.of("deviation")).toEqual([]);
    for (const detail of details(run, coalesced)) {
      expect(detail).toContain(": no answer within 300 ms: expected ");
      expect(detail).toEndWith("(this check writes several messages in one write, which a server that takes one read for one message loses: PROTOCOL.md §1)");
    }
    // What was lost, message by message: the second REGISTER, the 4th SEND's FORWARD, the second RECEIVED's SENT.
    expect(run.checks.get("register.pipelined")!.expected).toMatch(/^"REGISTERED TORECV carol\w+\\n\\n"$/);
    expect(run.checks.get("delivery.pipelined")!.expected).toMatch(/^"FORWARD alice\w+\\nContent-length: 1\\n\\n4"$/);
    expect(run.checks.get("delivery.answer-order")!.expected).toMatch(/^"SENT carol\w+\\n\\n"$/);
    expect(run.of("differs")).toEqual(["delivery.behind-register"]);
    expect(run.code).toBe(1);
  }, 60_000);

  test("a server that never answers RECEIVED: FAILs every check that waits for that answer, each at its step timeout, and never hangs", async () => {
    await using server = await startBroken("ignores-received");
    const run = await runKit(server.port, ["--timeout-ms", "300"]);
    const waitsForAnswer = [...answeredSent.slice(0, 9), "delivery.wrong-name", ...answeredSent.slice(9)];
    expect(run.of("fail"), `seed ${run.seed}`).toEqual(waitsForAnswer);
    for (const id of waitsForAnswer.filter((each) => each !== "delivery.pipelined")) {
      expect(run.checks.get(id)!.detail).toMatch(/: no answer within 300 ms: expected "(SENT \w+|ERROR 102 Unable to send)\\n\\n", received nothing/);
    }
    // Pipelined, bob's ERROR 103 still fails the first SEND: its ERROR 102 comes where SENT bob was due.
    expect(run.checks.get("delivery.pipelined")!.received).toBe('"ERROR 102 Unable to send\\n\\n"');
    expect(run.of("differs")).toEqual(decisionsAnsweredSent);
    expect(run.code).toBe(1);
  }, 60_000);

  test("a server that ends blocks with \\n \\n and lines with a space: a DEVIATION naming both on every check that reads a reply", async () => {
    await using server = await startBroken("sloppy-endings");
    const run = await runKit(server.port);
    const ran = checks.filter((check) => check.transcript.section === "contract" && check.transcript.limits === undefined).map((check) => check.id);
    expect(run.of("pass"), `seed ${run.seed}`).toEqual(["connect"]);
    expect(run.of("deviation")).toEqual(ran.filter((id) => id !== "connect"));
    for (const id of run.of("deviation")) {
      expect(run.checks.get(id)!.deviations).toEqual(["trailing-space", "space-terminator"]);
      expect(run.checks.get(id)!.detail).toMatch(/^trailing-space, space-terminator: \S+ received "([^"]+) \\n \\n" for "\1\\n\\n"$/);
    }
    expect(run.of("differs")).toEqual(checks.filter((check) => check.transcript.section === "parley" && !check.transcript.extensions).map((check) => check.id));
    expect(run.code).toBe(0);
  }, 60_000);
});
