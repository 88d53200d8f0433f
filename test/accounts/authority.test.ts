// FileAuthority (docs/protocol.md §7 "Accounts"): who may hold a name, and
// the bounds on checking passwords. Hashes are made cheap here; the cost of
// the real ones is measured by the bench.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileAuthority } from "../../src/accounts/authority.ts";
import { readAccounts } from "../../src/accounts/file.ts";
import { hashPassword } from "../../src/accounts/hash.ts";

const cheap = { memoryCost: 1024, timeCost: 1 };
const bytes = (text: string) => new TextEncoder().encode(text);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(options: { requireAccounts?: boolean; maxClaimsPerAddress?: number; accounts?: Record<string, string> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "parley-authority-"));
  dirs.push(dir);
  const path = join(dir, "accounts");
  const lines = await Promise.all(Object.entries(options.accounts ?? {}).map(async ([name, password]) => `${name} ${await hashPassword(bytes(password), cheap)}\n`));
  writeFileSync(path, lines.join(""));
  const { authority } = FileAuthority.open({ path, requireAccounts: options.requireAccounts ?? false, maxClaimsPerAddress: options.maxClaimsPerAddress ?? 3, cost: cheap });
  return { authority, path };
}

describe("FileAuthority", () => {
  test("lets the right password in, and refuses a wrong or missing one, for the name in any case", async () => {
    const { authority } = await setup({ accounts: { alice: "s3cret" } });
    expect(await authority.authorize("alice", bytes("s3cret"), "10.0.0.1")).toBe("ok");
    expect(await authority.authorize("ALICE", bytes("s3cret"), "10.0.0.1")).toBe("ok");
    expect(await authority.authorize("alice", bytes("wrong"), "10.0.0.2")).toBe("refused");
    expect(await authority.authorize("alice", undefined, "10.0.0.3")).toBe("refused");
  });

  test("checks a non-ASCII password as the bytes sent", async () => {
    const { authority } = await setup({ accounts: { alice: "pässwörd 🔑" } });
    expect(await authority.authorize("alice", bytes("pässwörd 🔑"), "10.0.0.1")).toBe("ok");
    expect(await authority.authorize("alice", new Uint8Array([...bytes("p"), 0xe4, ...bytes("sswörd 🔑")]), "10.0.0.2")).toBe("refused");
  });

  test("leaves names without an account open, unless accounts are required", async () => {
    const open = await setup({ maxClaimsPerAddress: 0 });
    expect(await open.authority.authorize("bob", undefined, "10.0.0.1")).toBe("ok");
    const strict = await setup({ requireAccounts: true });
    expect(await strict.authority.authorize("bob", undefined, "10.0.0.1")).toBe("refused");
    expect(await strict.authority.authorize("bob", bytes("anything"), "10.0.0.1")).toBe("refused");
  });

  test("makes a free name registered with a password an account, written to the file, up to the claims cap per address", async () => {
    const { authority, path } = await setup({ maxClaimsPerAddress: 2 });
    expect(await authority.authorize("bob", bytes("pw-bob"), "10.0.0.1")).toBe("ok");
    expect(readAccounts(path).accounts.get("bob")?.hash).toStartWith("$argon2id$");
    // From then on the name needs it.
    expect(await authority.authorize("bob", undefined, "10.0.0.1")).toBe("refused");
    expect(await authority.authorize("bob", bytes("pw-bob"), "10.0.0.9")).toBe("ok");
    expect(await authority.authorize("carol", bytes("pw"), "10.0.0.1")).toBe("ok");
    expect(await authority.authorize("dave", bytes("pw"), "10.0.0.1")).toBe("busy");
    expect(await authority.authorize("dave", bytes("pw"), "10.0.0.2")).toBe("ok");
  });

  test("answers a user's two roles, arriving together, with one check", async () => {
    const { authority } = await setup({ accounts: { alice: "s3cret" } });
    // One check in flight per address: had the second role started its own, it would be busy.
    const both = await Promise.all([authority.authorize("alice", bytes("s3cret"), "10.0.0.1"), authority.authorize("alice", bytes("s3cret"), "10.0.0.1")]);
    expect(both).toEqual(["ok", "ok"]);
  });

  test("lets one check run and one wait per address: a third guess from it at once is busy", async () => {
    const { authority } = await setup({ accounts: { alice: "s3cret" } });
    const first = authority.authorize("alice", bytes("guess1"), "10.0.0.66");
    const second = authority.authorize("alice", bytes("guess2"), "10.0.0.66");
    expect(await authority.authorize("alice", bytes("guess3"), "10.0.0.66")).toBe("busy");
    expect(await Promise.all([first, second])).toEqual(["refused", "refused"]);
  });

  test("makes an address that failed wait, while the owner from another address gets in first", async () => {
    const { authority } = await setup({ accounts: { alice: "s3cret" } });
    expect(await authority.authorize("alice", bytes("guess"), "10.0.0.66")).toBe("refused");
    const order: string[] = [];
    const guess = authority.authorize("alice", bytes("guess2"), "10.0.0.66").then((result) => order.push(`attacker:${result}`));
    const owner = authority.authorize("alice", bytes("s3cret"), "10.0.0.7").then((result) => order.push(`owner:${result}`));
    await Promise.all([guess, owner]);
    expect(order).toEqual(["owner:ok", "attacker:refused"]);
  });

  test("reloads the file and says what changed", async () => {
    const { authority, path } = await setup({ accounts: { alice: "a", bob: "b" } });
    const carol = await hashPassword(bytes("c"), cheap);
    const alice = await hashPassword(bytes("a2"), cheap);
    writeFileSync(path, `alice ${alice}\ncarol ${carol}\nbroken\n`);
    expect(authority.reload()).toEqual({ added: ["carol"], removed: ["bob"], changed: ["alice"], problems: ['line 3: not "name hash"'] });
    expect(await authority.authorize("alice", bytes("a2"), "10.0.0.1")).toBe("ok");
    expect(await authority.authorize("bob", undefined, "10.0.0.1")).toBe("ok");
  });
});
