// The interactive client through a real pseudo-terminal (util-linux `script`,
// part of every Debian base system): the prompt, a message arriving while the
// user is half-way through typing, the line redrawn intact, then sent.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Peer, registered } from "../support/peer.ts";
import { testServer } from "../support/server.ts";
import { Child, freePort, fromSource, spawnServer } from "../support/process.ts";
import { plain, suspendTest } from "./job-control.ts";

describe("parley client on a terminal", () => {
  test("redraws a half-typed line after an incoming message, then sends it", async () => {
    await using server = testServer();
    using bob = await Peer.connect(server.port, "bob");
    bob.send("REGISTER TOSEND bob\n\nREGISTER TORECV bob\n\n");
    await bob.receives("REGISTERED TOSEND bob\n\nREGISTERED TORECV bob\n\n");

    const client = [...fromSource, "client", "--host", "127.0.0.1", "--port", String(server.port), "--user", "alice"].join(" ");
    // A pty of a known size: without one, readline has no width to wrap against.
    await using alice = new Child(["script", "-qfec", `stty cols 80 rows 24; exec ${client}`, "/dev/null"], { stdin: "pipe", env: { TERM: "xterm" } }, "alice");
    await alice.output("stdout", (text) => plain(text).includes("alice> "), "the prompt");

    alice.write("@bob half typ");
    await alice.output("stdout", (text) => text.includes("@bob half typ"), "the typed text echoed");
    bob.send("SEND alice\nContent-length: 14\n\nhello from bob");
    await alice.output("stdout", (text) => /\[bob\] hello from bob\r\nalice> @bob half typ/.test(plain(text)), "the message above the redrawn line");
    await bob.receives("SENT alice\n\n");

    alice.write(" ok\r");
    await bob.receives("FORWARD alice\nContent-length: 11\n\nhalf typ ok");
    bob.send("RECEIVED alice\n\n");
    await alice.output("stdout", (text) => plain(text).includes("delivered: @bob half typ ok"), "the delivery outcome");

    alice.write("/quit\r");
    expect(await alice.exit()).toBe(0);
  }, 20_000);
});

/** `parley client` from source in a pseudo-terminal of its own (it leads the session: no job control). */
function onTerminal(args: readonly string[], label = "alice"): Child {
  const client = [...fromSource, "client", ...args].join(" ");
  return new Child(["script", "-qfec", `stty cols 80 rows 24; exec ${client}`, "/dev/null"], { stdin: "pipe", env: { TERM: "xterm" } }, label);
}

describe("parley client on a terminal, starting up", () => {
  test("keeps a typed :port as the port of the offered host, and exits 1 on Ctrl-D after the server was unreachable", async () => {
    const closed = freePort();
    await using alice = onTerminal([]);
    await alice.output("stdout", (text) => plain(text).includes("Server address [localhost:5050]: "), "the address prompt");
    alice.write(`:${closed}\r`);
    await alice.output("stdout", (text) => plain(text).includes("Your name: "), "the name prompt");
    alice.write("alice\r");
    await alice.output("stdout", (text) => plain(text).includes(`cannot reach the server at localhost:${closed}`), "the failure");
    await alice.output("stdout", (text) => plain(text).includes(`Server address [localhost:${closed}]: `), "the address prompt again, offering what was tried");
    alice.write("\x04");
    expect(await alice.exit()).toBe(1);
  }, 20_000);

  test("says --json needs --user, and exits 2, instead of blaming the terminal", async () => {
    await using alice = onTerminal(["--json", "--port", "1"]);
    expect(await alice.exit()).toBe(2);
    expect(plain(alice.stdout)).toBe("parley: --json needs --user NAME (or PARLEY_USER): it never asks (see parley client --help)\r\n");
  });

  test("leaves Ctrl-Z alone where nothing could resume it (no job control), and says so", async () => {
    await using server = testServer();
    using bob = await registered(server.port, "bob");
    await using alice = onTerminal(["--host", "127.0.0.1", "--port", String(server.port), "--user", "alice"]);
    await alice.output("stdout", (text) => plain(text).includes("alice> "), "the prompt");
    alice.write("@bob still");
    alice.write("\x1a");
    await alice.output("stdout", (text) => plain(text).includes("no job control"), "the notice");
    alice.write(" here\r");
    await bob.receives("FORWARD alice\nContent-length: 10\n\nstill here");
    bob.send("RECEIVED alice\n\n");
    await alice.output("stdout", (text) => plain(text).includes("delivered: @bob still here"), "the outcome");
    alice.write("/quit\r");
    expect(await alice.exit()).toBe(0);
  }, 20_000);
});

describe("parley client on a terminal, suspended and resumed", () => {
  suspendTest("bun src/cli.ts client", () => [...fromSource, "client"]);
  // package.json's script, as the README's quick start runs it: Bun's runner is the shell's job, the client its child.
  suspendTest("bun run client", () => [process.execPath, "run", "client", "--"]);
});

describe("parley client on a terminal, with accounts", () => {
  test("asks for the password without echo when the server answers ERROR 105, then connects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-pty-"));
    const accounts = `${dir}/accounts`;
    const add = new Child([...fromSource, "accounts", "add", "alice", "--accounts", accounts], { stdin: "sekrit pw\n" });
    expect(await add.exit()).toBe(0);
    await using server = await spawnServer(["--accounts", accounts]);
    const client = [...fromSource, "client", "--host", "127.0.0.1", "--port", String(server.port), "--user", "alice"].join(" ");
    await using alice = new Child(["script", "-qfec", `stty cols 80 rows 24; exec ${client}`, "/dev/null"], { stdin: "pipe", env: { TERM: "xterm" } }, "alice");
    await alice.output("stdout", (text) => plain(text).includes("Password for alice (not shown): "), "the password prompt");
    alice.write("sekrit pw\r");
    await alice.output("stdout", (text) => plain(text).includes("alice> "), "the prompt once connected");
    expect(plain(alice.stdout)).not.toContain("sekrit");
    alice.write("/quit\r");
    expect(await alice.exit()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);
});

describe("parley accounts on a terminal", () => {
  test("asks for a new password twice without echo, and refuses two that differ", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-pty-"));
    const add = (name: string) =>
      new Child(["script", "-qfec", `${[...fromSource, "accounts", "add", name, "--accounts", join(dir, "accounts")].join(" ")}`, "/dev/null"], { stdin: "pipe", env: { TERM: "xterm" } }, "accounts");
    await using ok = add("carol");
    await ok.output("stdout", (text) => text.includes("password for carol: "), "the first question");
    ok.write("hidden words\r");
    await ok.output("stdout", (text) => text.includes("again: "), "the second question");
    ok.write("hidden words\r");
    await ok.output("stdout", (text) => text.includes("added carol"), "the account added");
    expect(ok.stdout).not.toContain("hidden");
    await using typo = add("dave");
    await typo.output("stdout", (text) => text.includes("password for dave: "), "the first question");
    typo.write("one thing\r");
    await typo.output("stdout", (text) => text.includes("again: "), "the second question");
    typo.write("another\r");
    await typo.output("stdout", (text) => text.includes("the two passwords differ"), "the refusal");
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);
});
