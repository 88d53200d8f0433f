// The interactive client through a real pseudo-terminal (util-linux `script`,
// part of every Debian base system): the prompt, a message arriving while the
// user is half-way through typing, the line redrawn intact, then sent.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Peer } from "../support/peer.ts";
import { testServer } from "../support/server.ts";
import { Child, fromSource, spawnServer } from "../support/process.ts";

/** Screen text without cursor movement and erase sequences. */
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

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
