// What the TLS and accounts runs need before their server starts, made once
// per bench run in a temporary directory: a self-signed certificate that the
// generator trusts, and accounts files of U users, hashed at the server's own
// cost, so that the server checks what a real deployment would.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatAccounts, type Accounts } from "../src/accounts/file.ts";
import { defaultHashCost, hashPassword, verifyPassword } from "../src/accounts/hash.ts";
import { nameKey } from "../src/protocol/names.ts";
import { userName } from "./load.ts";

export type TlsFiles = { certPath: string; keyPath: string; ca: string };

/**
 * Every bench user's password. One password and one hash (one salt) for all:
 * the server still runs one full argon2id check per user, as it keys checks
 * by name, and salt reuse costs a bench nothing, while a hash per user would
 * cost ~28 ms each before the run.
 */
export const benchPassword = "bench-password";

export class Fixtures {
  #dir: string | undefined;
  #tls: TlsFiles | undefined;
  #hash: Promise<string> | undefined;
  readonly #accounts = new Map<number, string>();
  #checkCpuMs: number | undefined;

  get #path(): string {
    this.#dir ??= mkdtempSync(path.join(tmpdir(), "parley-bench-"));
    return this.#dir;
  }

  /** An EC certificate for localhost and 127.0.0.1 (~10 ms), as README.md's worked example makes one. */
  tls(): TlsFiles {
    if (this.#tls !== undefined) return this.#tls;
    const certPath = path.join(this.#path, "cert.pem");
    const keyPath = path.join(this.#path, "key.pem");
    const subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"];
    const openssl = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", ...subject];
    const made = Bun.spawnSync(openssl, { stdout: "ignore", stderr: "pipe" });
    if (!made.success) throw new Error(`openssl failed: ${made.stderr.toString().trim()}`);
    this.#tls = { certPath, keyPath, ca: readFileSync(certPath, "utf8") };
    return this.#tls;
  }

  /** An accounts file with users u0 .. u(users-1), the generator's scale names, all with benchPassword. */
  async accountsFile(users: number): Promise<string> {
    const known = this.#accounts.get(users);
    if (known !== undefined) return known;
    const hash = await this.#passwordHash();
    const accounts: Accounts = new Map();
    for (let id = 0; id < users; id++) accounts.set(nameKey(userName(id)), { name: userName(id), hash });
    const file = path.join(this.#path, `accounts-${users}.txt`);
    writeFileSync(file, formatAccounts(accounts), { mode: 0o600 });
    this.#accounts.set(users, file);
    return file;
  }

  /**
   * The CPU time of one password check, in ms: the median of five, run in
   * this process while no server runs. CPU time, not wall time, so that other
   * work on the machine does not inflate it: the server checks one at a time,
   * so 1000 / this is its bound in users per second with a core to itself.
   */
  async checkCpuMs(): Promise<number> {
    if (this.#checkCpuMs !== undefined) return this.#checkCpuMs;
    const hash = await this.#passwordHash();
    const password = Buffer.from(benchPassword);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      // Bun hashes on a worker thread; process.cpuUsage() counts every thread of the process.
      const start = process.cpuUsage();
      if (!(await verifyPassword(password, hash))) throw new Error("the bench's own password does not verify");
      const used = process.cpuUsage(start);
      times.push((used.user + used.system) / 1000);
    }
    this.#checkCpuMs = times.sort((a, b) => a - b)[2]!;
    return this.#checkCpuMs;
  }

  #passwordHash(): Promise<string> {
    this.#hash ??= hashPassword(Buffer.from(benchPassword), defaultHashCost);
    return this.#hash;
  }

  remove(): void {
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
  }
}
