// Password guessing beside honest users (docs/protocol.md §7 D42): a flood of
// wrong passwords, from one address or from many, neither locks the owner out
// nor takes the server from the honest group. Real argon2id at the server's
// own cost, so the bound on checking is the real one.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileAuthority } from "../../src/accounts/authority.ts";
import { hashPassword } from "../../src/accounts/hash.ts";
import { openArena } from "../support/arena.ts";
import { attackerAddress } from "../support/attackers.ts";
import { Peer } from "../support/peer.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
let dir: string;
let path: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "parley-passwords-"));
  path = join(dir, "accounts");
  writeFileSync(path, `owner ${await hashPassword(bytes("the right one"))}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function p99(latencies: readonly number[]): string {
  return `${(latencies.toSorted((a, b) => a - b)[Math.floor(latencies.length * 0.99)] ?? Number.NaN).toFixed(1)} ms`;
}

/** A guesser: one connection from `from` asking for the owner's name with wrong passwords, one after another, until stopped. */
async function guesser(port: number, from: string, stop: () => boolean): Promise<{ refused: number; busy: number }> {
  const peer = await Peer.connect(port, `guesser@${from}`, from);
  const seen = { refused: 0, busy: 0 };
  let n = 0;
  peer.listen({
    message({ verb, arg }) {
      if (verb === "ERROR" && arg.startsWith("105")) seen.refused++;
      if (verb === "ERROR" && arg.startsWith("106")) seen.busy++;
      if (!stop()) peer.send(`REGISTER TOSEND owner\nPassword: guess${n++}\n\n`);
    },
    garbled: () => peer.close(),
    closed: () => {},
  });
  // Two guesses in flight: one checked, one waiting, as many as the server lets one address have.
  peer.send(`REGISTER TOSEND owner\nPassword: guess${n++}\n\nREGISTER TOSEND owner\nPassword: guess${n++}\n\n`);
  await new Promise<void>((resolve) => peer.closed.then(resolve, resolve));
  return seen;
}

describe("password guessing", () => {
  for (const addresses of [1, 12]) {
    test(`a flood of wrong passwords from ${addresses} address(es) does not keep the owner out`, async () => {
      const { authority } = FileAuthority.open({ path, requireAccounts: false, maxClaimsPerAddress: 0 });
      // The default register deadline's order (the arena's 500 ms would count the server's own queue of checks against the owner).
      await using arena = await openArena({ authority, limits: { registerTimeoutMs: 10_000 }, honest: { broadcast: 0 } });
      await arena.group.progress(20);
      let stopping = false;
      const guessers = Array.from({ length: addresses }, () => attackerAddress()).map((from) => guesser(arena.port, from, () => stopping));
      await arena.group.progress(100);
      // The owner, from the honest address, while the guessing goes on.
      using owner = await Peer.connect(arena.port, "owner");
      const started = performance.now();
      owner.send("REGISTER TOSEND owner\nPassword: the right one\n\nREGISTER TORECV owner\nPassword: the right one\n\n");
      await owner.receives("REGISTERED TOSEND owner\n\nREGISTERED TORECV owner\n\n", 10_000);
      const ownerMs = performance.now() - started;
      await arena.group.progress(100);
      stopping = true;
      const growth = await arena.finish();
      // The server's stop ends the guessers; what they saw is counted either way.
      await arena.server.stop();
      const seen = await Promise.all(guessers);
      const refused = seen.reduce((sum, each) => sum + each.refused, 0);
      const busy = seen.reduce((sum, each) => sum + each.busy, 0);
      console.log(`${addresses} address(es): ${refused} wrong guesses checked, ${busy} turned away busy; owner in after ${ownerMs.toFixed(0)} ms; honest p99 ${p99(arena.group.latencies)}; peak RSS +${growth.toFixed(1)} MiB`);
      expect(refused).toBeGreaterThan(0);
    }, 30_000);
  }
});
