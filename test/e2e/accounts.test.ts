// Accounts end to end (docs/protocol.md §7): `parley accounts` edits the file,
// `parley server --accounts` enforces it, `parley client` sends the password,
// and the server reloads the file on SIGHUP. Real processes throughout.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Peer } from "../support/peer.ts";
import { Child, fromSource, spawnServer } from "../support/process.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "parley-accounts-e2e-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: Child[] = [];
let file = "";
let serial = 0;
beforeEach(() => {
  file = join(dir, `accounts-${++serial}`);
});
afterEach(async () => {
  for (const child of running.splice(0).reverse()) await child[Symbol.asyncDispose]();
});

function run(args: readonly string[], stdin = "", env: Record<string, string> = {}): Child {
  const child = new Child([...fromSource, ...args], { stdin, env });
  running.push(child);
  return child;
}

/** `parley accounts ...` on this test's file, to its end. */
async function accounts(args: readonly string[], password = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = run(["accounts", ...args, "--accounts", file], password);
  const code = await child.exit();
  return { code, stdout: child.stdout, stderr: child.stderr };
}

async function server(extra: readonly string[] = []) {
  const started = await spawnServer(["--accounts", file, ...extra]);
  running.push(started);
  return started;
}

function client(port: number, user: string, input: string, env: Record<string, string> = {}): Child {
  return run(["client", "--host", "127.0.0.1", "--port", String(port), "--user", user, "--no-reconnect"], input, env);
}

describe("accounts", () => {
  test("an operator adds, lists, changes and removes accounts; the file holds hashes, never a password", async () => {
    expect((await accounts(["add", "alice"], "horse battery\n")).code).toBe(0);
    expect((await accounts(["add", "Bob"], "ünïcode 🔑\n")).code).toBe(0);
    const again = await accounts(["add", "ALICE"], "x\n");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already has an account");
    expect((await accounts(["list"])).stdout).toBe("alice\nBob\n");
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("horse battery");
    expect(text).not.toContain("ünïcode");
    expect(text).toMatch(/^alice \$argon2id\$/m);
    expect((await accounts(["passwd", "bob"], "new one\n")).code).toBe(0);
    expect(readFileSync(file, "utf8")).not.toBe(text);
    expect((await accounts(["remove", "alice"])).code).toBe(0);
    expect((await accounts(["list"])).stdout).toBe("Bob\n");
    const bad = await accounts(["add", "carol"], " leading space\n");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("cannot start or end with a space");
  });

  test("a name with an account needs its password; a wrong one gets one clear line; a non-ASCII one works", async () => {
    await accounts(["add", "alice"], "pässwörd\n");
    const { port } = await server();
    const listening = run(["client", "--host", "127.0.0.1", "--port", String(port), "--user", "bob", "--json", "--listen"]);
    await listening.line("stdout", '"event":"connected"');
    const right = client(port, "alice", "@bob hello\n", { PARLEY_PASSWORD: "pässwörd" });
    expect(await right.exit()).toBe(0);
    await listening.line("stdout", '"text":"hello"');
    const wrong = client(port, "alice", "@bob hi\n", { PARLEY_PASSWORD: "password" });
    expect(await wrong.exit()).toBe(1);
    expect(wrong.stderr).toContain('needs the password of "alice"');
    const none = client(port, "alice", "@bob hi\n");
    expect(await none.exit()).toBe(1);
  });

  test("a free name registered with a password is claimed, and needs it from then on", async () => {
    const { port } = await server();
    const first = client(port, "carol", "@carol mine now\n", { PARLEY_PASSWORD: "carols" });
    expect(await first.exit()).toBe(0);
    expect((await accounts(["list"])).stdout).toBe("carol\n");
    const thief = client(port, "carol", "@carol hi\n");
    expect(await thief.exit()).toBe(1);
  });

  test("--require-accounts refuses names with no account", async () => {
    const { port } = await server(["--require-accounts"]);
    const nobody = client(port, "dave", "@dave hi\n");
    expect(await nobody.exit()).toBe(1);
  });

  test("refuses a password in clear from an address not trusted with one, with ERROR 105 and the connection open", async () => {
    await accounts(["add", "alice"], "s3cret\n");
    const { port } = await server(["--trust-plaintext-passwords-from", ""]);
    const peer = await Peer.connect(port, "alice");
    running.push({ [Symbol.asyncDispose]: async () => peer.close() } as unknown as Child);
    peer.send("REGISTER TOSEND alice\nPassword: s3cret\n\n");
    await peer.receives("ERROR 105 Not authorized\n\n");
    // Still usable: a name without an account registers as before.
    peer.send("REGISTER TOSEND zed\n\n");
    await peer.receives("REGISTERED TOSEND zed\n\n");
  });

  test("the client never sends a password in clear to another machine", async () => {
    const refused = run(["client", "--host", "192.0.2.1", "--port", "5050", "--user", "alice", "--no-reconnect"], "@bob hi\n", { PARLEY_PASSWORD: "s3cret" });
    expect(await refused.exit()).toBe(1);
    expect(refused.stderr).toContain("only over TLS");
  });

  test("reloads the file on SIGHUP and logs what changed", async () => {
    await accounts(["add", "alice"], "one\n");
    const started = await server();
    await accounts(["add", "erin"], "two\n");
    await accounts(["remove", "alice"]);
    started.kill("SIGHUP");
    const line = await started.line("stderr", "accounts.reloaded");
    expect(line).toContain("added=erin");
    expect(line).toContain("removed=alice");
    const erin = client(started.port, "erin", "@erin hi\n", { PARLEY_PASSWORD: "two" });
    expect(await erin.exit()).toBe(0);
  });
});
