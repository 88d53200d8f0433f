// Password hashes: argon2id through Bun.password, off the event loop. The
// cost is chosen for restarts (docs/protocol.md §7): OWASP's argon2id floor,
// 19 MiB and two passes, takes ~28 ms here, so N users whose accounts must be
// checked again after a restart are all back in about N × 28 ms (one check at
// a time), where Bun's default (64 MiB) would take ~106 ms each.

export type HashCost = { readonly memoryCost: number; readonly timeCost: number };

export const defaultHashCost: HashCost = { memoryCost: 19_456, timeCost: 2 };

export function hashPassword(password: Uint8Array, cost: HashCost = defaultHashCost): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", ...cost });
}

/** False for a wrong password, and for a hash it cannot read (Bun throws on those). */
export async function verifyPassword(password: Uint8Array, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}
