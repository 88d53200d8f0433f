// The accounts of one server (docs/protocol.md §7 "Accounts"): who may hold
// which name, checked against the accounts file. Checking is bounded: one slow
// hash at a time, one waiting per address, and failures from an address (for
// a name, and for any name) wait longer each time, so guessing can neither
// burn the machine nor lock the real owner out from their own address.

import type { Authority, Authorization } from "../core/authority.ts";
import { addressKey } from "../core/address.ts";
import { nameKey } from "../protocol/names.ts";
import { readAccounts, updateAccounts, type Accounts } from "./file.ts";
import { defaultHashCost, hashPassword, verifyPassword, type HashCost } from "./hash.ts";

export type FileAuthorityOptions = {
  readonly path: string;
  /** Refuse names that have no account. */
  readonly requireAccounts: boolean;
  /** Names one address may claim by registering them with a password (0: no claims). */
  readonly maxClaimsPerAddress: number;
  readonly cost?: HashCost;
};

export type Reloaded = { readonly added: string[]; readonly removed: string[]; readonly changed: string[]; readonly problems: string[] };

// A second role of a user, from the same address with the same password soon
// after the first, is let in without a second slow hash.
const rememberMs = 60_000;
const firstDelayMs = 250;
const maxDelayMs = 8_000;
// A failure this old no longer makes anyone wait.
const forgetMs = 15 * 60_000;
const maxWaiting = 64;
const maxTracked = 10_000;

type Failures = { count: number; at: number };

export class FileAuthority implements Authority {
  readonly #options: FileAuthorityOptions;
  #accounts: Accounts;
  readonly #remembered = new Map<string, { digest: string; address: string; until: number }>();
  readonly #failures = new Map<string, Failures>();
  readonly #claims = new Map<string, number>();
  // A user's two roles usually arrive together: the second waits for the first one's check (or claim).
  readonly #checking = new Map<string, Promise<Authorization>>();
  // One slow hash at a time; addresses waiting for their turn, each at most once.
  #busy = false;
  readonly #queue: (() => void)[] = [];
  readonly #queued = new Set<string>();

  private constructor(options: FileAuthorityOptions, accounts: Accounts) {
    this.#options = options;
    this.#accounts = accounts;
  }

  /** Reads the file (a missing one is an empty list); its problems are returned to be logged. */
  static open(options: FileAuthorityOptions): { authority: FileAuthority; problems: string[] } {
    const { accounts, problems } = readAccounts(options.path);
    return { authority: new FileAuthority(options, accounts), problems };
  }

  get size(): number {
    return this.#accounts.size;
  }

  /** Reads the file again (SIGHUP) and says what changed. */
  reload(): Reloaded {
    const { accounts, problems } = readAccounts(this.#options.path);
    const before = this.#accounts;
    const names = (keys: Iterable<string>, from: Accounts) => [...keys].map((key) => from.get(key)!.name);
    const added = names([...accounts.keys()].filter((key) => !before.has(key)), accounts);
    const removed = names([...before.keys()].filter((key) => !accounts.has(key)), before);
    const changed = names([...accounts.keys()].filter((key) => before.has(key) && before.get(key)!.hash !== accounts.get(key)!.hash), accounts);
    this.#accounts = accounts;
    for (const name of [...removed, ...changed]) this.#remembered.delete(nameKey(name));
    return { added, removed, changed, problems };
  }

  async authorize(name: string, password: Uint8Array | undefined, address: string): Promise<Authorization> {
    const key = nameKey(name);
    const account = this.#accounts.get(key);
    if (password === undefined) return account === undefined && !this.#options.requireAccounts ? "ok" : "refused";
    if (account === undefined && (this.#options.requireAccounts || this.#options.maxClaimsPerAddress === 0)) return this.#options.requireAccounts ? "refused" : "ok";
    const digest = new Bun.CryptoHasher("sha256").update(password).digest("hex");
    const remembered = this.#remembered.get(key);
    if (remembered !== undefined && remembered.until > performance.now() && remembered.address === address && remembered.digest === digest) return "ok";
    const same = `${key}@${address}#${digest}`;
    let check = this.#checking.get(same);
    if (check === undefined) {
      check = (account === undefined ? this.#claim(name, password, address) : this.#check(key, account.hash, password, address))
        .then((result) => {
          if (result === "ok") this.#remembered.set(key, { digest, address, until: performance.now() + rememberMs });
          return result;
        })
        .finally(() => this.#checking.delete(same));
      this.#checking.set(same, check);
    }
    return check;
  }

  async #check(key: string, hash: string, password: Uint8Array, address: string): Promise<Authorization> {
    const where = addressKey(address);
    const pair = `${key}@${where}`;
    const verified = await this.#slowly(where, Math.max(this.#delay(pair), this.#delay(where)), () => verifyPassword(password, hash));
    if (verified === "busy") return "busy";
    if (!verified) {
      this.#failed(pair);
      this.#failed(where);
      return "refused";
    }
    this.#failures.delete(pair);
    return "ok";
  }

  /** A free name registered with a password becomes an account (docs/protocol.md §7). */
  async #claim(name: string, password: Uint8Array, address: string): Promise<Authorization> {
    const where = addressKey(address);
    const claimed = this.#claims.get(where) ?? 0;
    if (claimed >= this.#options.maxClaimsPerAddress) return "busy";
    const hash = await this.#slowly(where, 0, () => hashPassword(password, this.#options.cost ?? defaultHashCost));
    if (hash === "busy") return "busy";
    let taken = false;
    this.#accounts = await updateAccounts(this.#options.path, (accounts) => {
      // Someone claimed it (or an operator added it) meanwhile: the name is theirs.
      if (accounts.has(nameKey(name))) taken = true;
      else accounts.set(nameKey(name), { name, hash });
    });
    if (taken) return "refused";
    this.#claims.set(where, claimed + 1);
    return "ok";
  }

  /** Runs `work` after `delayMs`, when no other slow hash runs; busy if this address already waits. */
  async #slowly<T>(where: string, delayMs: number, work: () => Promise<T>): Promise<T | "busy"> {
    if (this.#queued.has(where) || this.#queue.length >= maxWaiting) return "busy";
    this.#queued.add(where);
    try {
      if (delayMs > 0) await Bun.sleep(delayMs);
      while (this.#busy) await new Promise<void>((resolve) => this.#queue.push(resolve));
      this.#busy = true;
    } finally {
      this.#queued.delete(where);
    }
    try {
      return await work();
    } finally {
      this.#busy = false;
      this.#queue.shift()?.();
    }
  }

  #delay(key: string): number {
    const failures = this.#failures.get(key);
    if (failures === undefined || performance.now() - failures.at > forgetMs) return 0;
    const wait = Math.min(firstDelayMs * 2 ** (failures.count - 1), maxDelayMs);
    return Math.max(0, failures.at + wait - performance.now());
  }

  #failed(key: string): void {
    if (this.#failures.size >= maxTracked) this.#failures.clear();
    const failures = this.#failures.get(key);
    const now = performance.now();
    if (failures === undefined || now - failures.at > forgetMs) this.#failures.set(key, { count: 1, at: now });
    else this.#failures.set(key, { count: failures.count + 1, at: now });
  }
}
