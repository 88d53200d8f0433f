// The accounts file (docs/protocol.md §7 "Accounts"): one readable line per
// account, hashes only, one writer at a time, replaced atomically.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatAccounts, parseAccounts, readAccounts, updateAccounts } from "../../src/accounts/file.ts";
import { hashPassword, verifyPassword } from "../../src/accounts/hash.ts";

const cheap = { memoryCost: 1024, timeCost: 1 };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-accounts-"));
  dirs.push(dir);
  return join(dir, "accounts");
}

describe("accounts file", () => {
  test("reads one account per line, regardless of the name's case, and names the lines it skips", () => {
    const { accounts, problems } = parseAccounts("# comment\n\nAlice $argon2id$x\nbob $argon2id$y\nalice $argon2id$z\nnot a line\ncarol nohash\n");
    expect([...accounts.values()]).toEqual([
      { name: "Alice", hash: "$argon2id$x" },
      { name: "bob", hash: "$argon2id$y" },
    ]);
    expect(problems).toEqual(['line 5: alice again', 'line 6: not "name hash"', 'line 7: not "name hash"']);
  });

  test("writes what it reads, sorted, with a header a person can follow", () => {
    const { accounts } = parseAccounts("zed $h1\nAlice $h2\n");
    const text = formatAccounts(accounts);
    expect(text.split("\n").slice(1)).toEqual(["Alice $h2", "zed $h1", ""]);
    expect(text.startsWith("# ")).toBe(true);
    expect(parseAccounts(text).accounts).toEqual(accounts);
  });

  test("a missing file is no accounts", () => {
    expect(readAccounts(file()).accounts.size).toBe(0);
  });

  test("updates under a lock and replaces the file whole, leaving no lock or temporary file", async () => {
    const path = file();
    await updateAccounts(path, (accounts) => void accounts.set("alice", { name: "alice", hash: "$h" }));
    expect(readFileSync(path, "utf8")).toContain("alice $h\n");
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(existsSync(`${path}.${process.pid}.tmp`)).toBe(false);
  });

  test("serialises writers: two updates at once both land", async () => {
    const path = file();
    const slow = updateAccounts(path, async (accounts) => {
      await Bun.sleep(50); // holds the lock while hashing, as a claim does
      accounts.set("alice", { name: "alice", hash: "$a" });
    });
    const fast = updateAccounts(path, (accounts) => void accounts.set("bob", { name: "bob", hash: "$b" }));
    await Promise.all([slow, fast]);
    expect([...readAccounts(path).accounts.keys()].sort()).toEqual(["alice", "bob"]);
  });

  test("takes over a lock left by a writer that died long ago", async () => {
    const path = file();
    writeFileSync(`${path}.lock`, "");
    const old = new Date(Date.now() - 60_000);
    (await import("node:fs")).utimesSync(`${path}.lock`, old, old);
    await updateAccounts(path, (accounts) => void accounts.set("alice", { name: "alice", hash: "$h" }));
    expect(readAccounts(path).accounts.has("alice")).toBe(true);
  });

  test("never holds a password in clear: the file has its argon2id hash, which verifies the same bytes", async () => {
    const path = file();
    const password = new TextEncoder().encode("correct horse ✓ 電池");
    const hash = await hashPassword(password, cheap);
    await updateAccounts(path, (accounts) => void accounts.set("alice", { name: "alice", hash }));
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain("correct horse");
    expect(text).toContain("$argon2id$");
    expect(await verifyPassword(password, readAccounts(path).accounts.get("alice")!.hash)).toBe(true);
    expect(await verifyPassword(new TextEncoder().encode("correct horse"), hash)).toBe(false);
    expect(await verifyPassword(password, "not a hash")).toBe(false);
  });
});
