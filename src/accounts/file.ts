// The accounts file (docs/protocol.md §7 "Accounts"): one line per account,
// `name hash`, the hash in its standard string form ($argon2id$...), so a
// person can read and diff it; `#` starts a comment. The server and the
// `accounts` command both write it: one writer at a time (a lock file) and an
// atomic replace (write a temporary file, then rename it over the old one).

import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isValidUsername, nameKey } from "../protocol/names.ts";

export type Account = { readonly name: string; readonly hash: string };
/** Accounts by name regardless of case (docs/protocol.md §6). */
export type Accounts = Map<string, Account>;

const header = "# parley accounts: one per line, `name hash` (argon2id). Edit with `parley accounts`; the server reloads on SIGHUP.\n";

/** Reads the accounts in `text`; a line that is not an account is skipped and named in `problems`. */
export function parseAccounts(text: string): { accounts: Accounts; problems: string[] } {
  const accounts: Accounts = new Map();
  const problems: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [name = "", hash = "", extra] = line.split(/\s+/);
    if (!isValidUsername(name) || !hash.startsWith("$") || extra !== undefined) problems.push(`line ${i + 1}: not "name hash"`);
    else if (accounts.has(nameKey(name))) problems.push(`line ${i + 1}: ${name} again`);
    else accounts.set(nameKey(name), { name, hash });
  });
  return { accounts, problems };
}

export function formatAccounts(accounts: Accounts): string {
  const lines = [...accounts.values()].sort((a, b) => nameKey(a.name).localeCompare(nameKey(b.name))).map((account) => `${account.name} ${account.hash}\n`);
  return header + lines.join("");
}

/** The accounts in `path`; none when there is no such file yet. */
export function readAccounts(path: string): { accounts: Accounts; problems: string[] } {
  if (!existsSync(path)) return { accounts: new Map(), problems: [] };
  return parseAccounts(readFileSync(path, "utf8"));
}

// A lock older than this was left by a writer that died: writes take milliseconds.
const staleLockMs = 30_000;
const lockWaitMs = 5_000;

/**
 * Reads `path` under its lock, lets `change` edit the accounts, and writes
 * them back atomically; resolves with what was written. `change` may be async
 * (hashing a password); the lock is held meanwhile.
 */
export async function updateAccounts(path: string, change: (accounts: Accounts) => void | Promise<void>): Promise<Accounts> {
  const lock = `${path}.lock`;
  await takeLock(lock);
  try {
    const { accounts } = readAccounts(path);
    await change(accounts);
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, formatAccounts(accounts), { mode: 0o600 });
    renameSync(temporary, path);
    return accounts;
  } finally {
    rmSync(lock, { force: true });
  }
}

async function takeLock(lock: string): Promise<void> {
  const deadline = performance.now() + lockWaitMs;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx", 0o600));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > staleLockMs) rmSync(lock, { force: true });
    else if (performance.now() > deadline) throw new Error(`${lock} is held by another writer`);
    // A retry delay while another writer (milliseconds of work) holds the lock, not synchronisation.
    else await Bun.sleep(5);
  }
}
