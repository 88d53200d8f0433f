// End-to-end chats with real processes: a parley server and scripted clients,
// run from source (client.test.ts) and as the compiled binary (binary.test.ts).

import { afterEach, describe, expect, test } from "bun:test";
import { Child, spawnServer } from "../support/process.ts";

type Parley = () => readonly string[];

export function chatTests(name: string, parley: Parley): void {
  describe(name, () => {
    const running: Child[] = [];
    afterEach(async () => {
      for (const child of running.splice(0).reverse()) await child[Symbol.asyncDispose]();
    });

    async function server(flags: readonly string[] = []) {
      const started = await spawnServer(flags, { parley: parley() });
      running.push(started);
      return { port: started.port, stop: () => started.stop() };
    }

    function client(port: number, user: string, flags: readonly string[] = [], stdin: string | "pipe" | "ignore" = "pipe"): Child {
      const child = new Child([...parley(), "client", "--host", "127.0.0.1", "--port", String(port), "--user", user, ...flags], { stdin }, user);
      running.push(child);
      return child;
    }

    test("two scripted clients exchange messages both ways", async () => {
      const { port, stop } = await server();
      const alice = client(port, "alice");
      const bob = client(port, "bob");
      await alice.line("stderr", "connected to 127.0.0.1");
      await bob.line("stderr", "connected to 127.0.0.1");

      alice.write("@bob hi bob, ça va? 👋\n");
      expect(await bob.line("stdout", "[alice]")).toBe("[alice] hi bob, ça va? 👋");
      bob.write("@alice very well\n");
      expect(await alice.line("stdout", "[bob]")).toBe("[bob] very well");
      await alice.line("stdout", "delivered:");
      await bob.line("stdout", "delivered:");

      alice.endInput();
      bob.endInput();
      expect(await alice.exit()).toBe(0);
      expect(await bob.exit()).toBe(0);
      expect(alice.stdoutLines).toEqual(["delivered: @bob hi bob, ça va? 👋", "[bob] very well"]);
      expect(bob.stdoutLines).toEqual(["[alice] hi bob, ça va? 👋", "delivered: @alice very well"]);
      await stop();
    }, 15_000);

    test("a broadcast among three reaches the other two", async () => {
      const { port, stop } = await server();
      // Receive-only peers: input ends at once, --listen keeps them until SIGTERM.
      const bob = client(port, "bob", ["--listen"], "ignore");
      const carol = client(port, "carol", ["--listen"], "ignore");
      await bob.line("stderr", "connected to");
      await carol.line("stderr", "connected to");

      const alice = client(port, "alice", [], "@ALL hello everyone\n");
      expect(await alice.exit()).toBe(0);
      expect(alice.stdoutLines).toEqual(["delivered: @ALL hello everyone"]);
      expect(await bob.line("stdout", "[alice]")).toBe("[alice] hello everyone");
      expect(await carol.line("stdout", "[alice]")).toBe("[alice] hello everyone");

      bob.kill("SIGTERM");
      carol.kill("SIGINT");
      expect(await bob.exit()).toBe(0);
      expect(await carol.exit()).toBe(0);
      await stop();
    }, 15_000);

    test("exits 1 when a message is not delivered, with the reason in words", async () => {
      const { port, stop } = await server();
      const alice = client(port, "alice", [], "@alice to myself\n@nobody hello?\n");
      expect(await alice.exit()).toBe(1);
      expect(alice.stdoutLines).toEqual(["[alice] to myself", "delivered: @alice to myself", "not delivered: @nobody hello? (not online)"]);
      await stop();
    });
  });
}
