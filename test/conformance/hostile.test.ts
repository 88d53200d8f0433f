// `parley conformance` against servers that are wrong or hostile: garbage,
// silence, an instant close, a flood, nobody listening. Each is a FAIL that
// says what happened, on the first check it breaks (the rest skipped as
// needing it), never a crash or a hang.

import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { rng } from "../support/prng.ts";
import { freePort } from "../support/process.ts";
import { kitSeed, runKit, type KitRun } from "./kit.ts";

/** A server on 127.0.0.1 port 0 that does `onData` with whatever a client writes (and `onOpen` on connecting). */
function hostile(handlers: { onOpen?: (socket: Socket<undefined>) => void; onData?: (socket: Socket<undefined>) => void }): Disposable & { readonly port: number } {
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (socket) => handlers.onOpen?.(socket), data: (socket) => handlers.onData?.(socket) },
  });
  return { port: listener.port, [Symbol.dispose]: () => listener.stop(true) };
}

/** The one failed check, and every other one skipped for needing it (or for needing --extensions or a limit). */
function expectStoppedAt(run: KitRun, id: string): string {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(1);
  expect(run.of("fail"), `seed ${run.seed}`).toEqual([id]);
  expect(run.of("pass")).toEqual(id === "connect" ? [] : ["connect"]);
  for (const check of run.checks.values()) {
    if (check.kind === "skip") expect(check.detail).toMatch(new RegExp(`^needs ${id}, which failed$|^version 2|a limit the kit cannot set`));
  }
  return run.checks.get(id)!.detail!;
}

describe("parley conformance against hostile servers", () => {
  test("a server that answers garbage and closes: FAIL with the bytes received", async () => {
    const garbage = rng(kitSeed).bytes(3000);
    using server = hostile({ onData: (socket) => (socket.write(garbage), socket.end()) });
    const run = await runKit(server.port, ["--timeout-ms", "300"]);
    const detail = expectStoppedAt(run, "register.roles");
    expect(detail).toStartWith(`alice(send): expected "REGISTERED TOSEND alice`);
    expect(run.checks.get("register.roles")!.received).toContain("...(3000 bytes)");
  }, 30_000);

  test("a server that never answers: FAIL at the step timeout, then every other check skipped", async () => {
    using server = hostile({});
    const run = await runKit(server.port, ["--timeout-ms", "300"]);
    expect(expectStoppedAt(run, "register.roles")).toMatch(/^alice\(send\): no answer within 300 ms: expected "REGISTERED TOSEND alice\w+\\n\\n", received nothing$/);
  }, 30_000);

  test("a server that closes every connection at once: FAIL saying it closed", async () => {
    using server = hostile({ onOpen: (socket) => socket.end() });
    const run = await runKit(server.port, ["--timeout-ms", "300"]);
    expect(expectStoppedAt(run, "register.roles")).toMatch(/^alice\(send\): the server closed the connection: expected "REGISTERED TOSEND alice\w+\\n\\n", received nothing$/);
  }, 30_000);

  test("a server that floods: FAIL once the kit holds more than a message's worth, and the kit stops reading", async () => {
    const flood = Buffer.alloc(2 * 1024 * 1024, "A");
    using server = hostile({ onData: (socket) => void socket.write(flood) });
    const run = await runKit(server.port, ["--timeout-ms", "300"]);
    expect(expectStoppedAt(run, "register.roles")).toMatch(/^alice\(send\): (cannot read the server's message \(a header block over 65536 bytes\)|the server wrote more than \d+ bytes nobody asked for; closed)/);
  }, 30_000);

  test("no server at all: FAIL connect with the reason, every other check skipped", async () => {
    const run = await runKit(freePort(), ["--timeout-ms", "300"]);
    expect(expectStoppedAt(run, "connect")).toMatch(/^probe: cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED$/);
  }, 30_000);
});
