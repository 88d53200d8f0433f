// A name's entry in the names bucket (docs/protocol.md D58): who holds it,
// whether both roles are held, and, after an unclean loss, for whom it is
// kept; whether a user may take it over; and taking it.

import type { KV, KvEntry } from "@nats-io/kv";

export type Claim = { readonly name: string; readonly node: string; readonly registered: boolean; readonly keptFor?: string; readonly until?: number };
export type Entry = Claim & { readonly revision: number };

const encoder = new TextEncoder();

export function encodeClaim(claim: Claim): Uint8Array {
  return encoder.encode(JSON.stringify(claim));
}

export function decodeClaim(entry: KvEntry): Entry | undefined {
  if (entry.operation !== "PUT") return undefined;
  try {
    const claim = entry.json<Claim>();
    return typeof claim.name === "string" && typeof claim.node === "string" ? { ...claim, revision: entry.revision } : undefined;
  } catch {
    return undefined;
  }
}

/** Why a user at `address` on node `self` may not take `held` over (`alive`: which nodes hold a lease); undefined if it may. */
export function claimRefusal(held: Entry, address: string, self: string, alive: (node: string) => boolean): string | undefined {
  // A reservation past its time is free, whoever wrote it: its own timer may have failed to delete it (the bus was away).
  if (held.keptFor !== undefined) return held.keptFor === address || (held.until ?? 0) <= Date.now() ? undefined : "kept a moment for the address that lost it";
  if (held.node === self || !alive(held.node)) return undefined;
  return held.registered ? "held by a user on another node" : "one role is held on another node: both roles of a user must reach the same node";
}

/**
 * Writes `claim` under `key` if nobody holds it, or over an entry `refusal`
 * allows taking: an atomic create, or a compare-and-set on the revision read,
 * so of any number of racers exactly one wins. Returns the revision written,
 * or the entry kept and why. A bus error is thrown.
 */
export async function takeClaim(kv: KV, key: string, claim: Claim, refusal: (held: Entry) => string | undefined): Promise<number | { readonly held: Entry; readonly why: string }> {
  const value = encodeClaim(claim);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await kv.get(key);
    const held = current === null ? undefined : decodeClaim(current);
    const why = held === undefined ? undefined : refusal(held);
    if (why !== undefined) return { held: held!, why };
    try {
      return current === null ? await kv.create(key, value) : await kv.update(key, value, current.revision);
    } catch (error) {
      // Someone else wrote it between the read and the write: read again.
      if ((error as { code?: number }).code !== 10071 && !String(error).includes("wrong last sequence")) throw error;
    }
  }
  // Lost three races in a row: somebody keeps winning it.
  const current = await kv.get(key);
  const held = current === null ? undefined : decodeClaim(current);
  return { held: held ?? { ...claim, revision: 0 }, why: "claimed by another user at the same moment" };
}
