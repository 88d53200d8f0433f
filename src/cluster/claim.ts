// A name's entry in the names bucket (docs/protocol.md D58): who holds it,
// whether both roles are held, and, after an unclean loss, for whom it is
// kept; and whether a user may take it over.

import type { KvEntry } from "@nats-io/kv";

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
