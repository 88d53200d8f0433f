// `parley client --compat` (docs/protocol.md D68) as real processes against
// fixture servers that read one message per read() and end their messages
// in the usual deviant ways, and against parley's own server.

import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Child, fromSource, spawnServer } from "../support/process.ts";

const fixture = join(import.meta.dir, "fixtures", "one-read-server.ts");

describe("parley client --compat", () => {
  const running: Child[] = [];
  afterEach(async () => {
    for (const child of running.splice(0).reverse()) await child[Symbol.asyncDispose]();
  });

  function start(command: readonly string[], stdin: string | "ignore" = "ignore"): Child {
    const child = new Child(command, { stdin });
    running.push(child);
    return child;
  }

  const client = (port: number, user: string, flags: readonly string[], stdin: string | "ignore") =>
    start([...fromSource, "client", "--compat", "--host", "127.0.0.1", "--port", String(port), "--user", user, ...flags], stdin);

  /** Two users chat through the server at `port`: bob listens, alice sends three lines to bob and one to nobody. */
  async function chat(port: number): Promise<{ alice: Child; bob: Child }> {
    const bob = client(port, "bob", ["--listen", "--json"], "ignore");
    await bob.line("stdout", '"event":"connected"');
    const alice = client(port, "alice", [], "@bob one\n@bob two, with  spaces \n@nobody hello?\n@bob three\n");
    expect(await alice.exit()).toBe(1);
    expect(alice.stdoutLines).toEqual(["delivered: @bob one", "delivered: @bob two, with  spaces ", "not delivered: @nobody hello? (not online, or did not confirm it)", "delivered: @bob three"]);
    await bob.output("stdout", (text) => text.split('"event":"received"').length === 4, "three messages");
    expect(bob.stdoutLines.slice(1).map((line) => JSON.parse(line).text)).toEqual(["one", "two, with  spaces ", "three"]);
    return { alice, bob };
  }

  for (const style of ["spaces", "newline"] as const) {
    test(`chats through a server that reads one message per read and ends messages with ${style === "spaces" ? "\\n \\n and trailing spaces, answering SEND <name>" : "a single \\n"}`, async () => {
      const server = start([process.execPath, fixture, style]);
      const port = Number((await server.line("stdout", "listening")).split(" ")[1]);
      await chat(port);
      // Each message came in a read of its own: the fixture ignored nothing.
      expect(server.stdoutLines).toEqual([`listening ${port}`]);
    }, 15_000);
  }

  test("chats through parley's own server too", async () => {
    const server = await spawnServer();
    running.push(server);
    await chat(server.port);
  }, 15_000);

  test("says a message is too long for --max-body-bytes, and writes nothing of it", async () => {
    const server = start([process.execPath, fixture, "newline"]);
    const port = Number((await server.line("stdout", "listening")).split(" ")[1]);
    const alice = client(port, "alice", ["--max-body-bytes", "10"], "@alice 0123456789\n@alice 0123456789x\n");
    expect(await alice.exit()).toBe(1);
    expect(alice.stdoutLines.filter((line) => !line.startsWith("[alice]"))).toEqual(["delivered: @alice 0123456789", "not delivered: @alice 0123456789x (too long for this server: at most 10 bytes)"]);
  });
});
