// Budgets that keep one client from harming another (docs/protocol.md §6), in
// one place and fed by the limits table: token buckets for rates, counts per
// address, and the bytes held for all recipients together.

import { addressKey, inRanges, type AddressRange } from "./address.ts";

/** A token bucket: `rate` tokens a second up to `burst`; spending may go into debt, which is then waited off. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, burst: number, now = performance.now()) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  get burst(): number {
    return this.#burst;
  }

  /** Takes `cost`; returns how many ms until the bucket is out of debt (0 if it is not in debt). */
  spend(cost: number, now = performance.now()): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#rate) / 1000) - cost;
    this.#at = now;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#rate;
  }
}

export type AdmitResult = "ok" | "server-full" | "address-full";

/** Connections and names held, per address and in all. */
export class AddressBook {
  readonly #maxConnections: number;
  readonly #perAddress: number;
  readonly #namesPerAddress: number;
  readonly #exempt: readonly AddressRange[];
  readonly #connections = new Map<string, number>();
  readonly #names = new Map<string, number>();
  #open = 0;

  constructor(maxConnections: number, perAddress: number, namesPerAddress: number, exempt: readonly AddressRange[]) {
    this.#maxConnections = maxConnections;
    this.#perAddress = perAddress;
    this.#namesPerAddress = namesPerAddress;
    this.#exempt = exempt;
  }

  get open(): number {
    return this.#open;
  }

  /** A connection from `address` opens; when not "ok" nothing was counted. */
  admit(address: string): AdmitResult {
    if (this.#open >= this.#maxConnections) return "server-full";
    const key = addressKey(address);
    const held = this.#connections.get(key) ?? 0;
    if (held >= this.#perAddress && !inRanges(address, this.#exempt)) return "address-full";
    this.#connections.set(key, held + 1);
    this.#open++;
    return "ok";
  }

  leave(address: string): void {
    this.#open--;
    decrement(this.#connections, addressKey(address));
  }

  /** A new name from `address`; false when it holds its share of names already. */
  claimName(address: string): boolean {
    const key = addressKey(address);
    const held = this.#names.get(key) ?? 0;
    if (held >= this.#namesPerAddress && !inRanges(address, this.#exempt)) return false;
    this.#names.set(key, held + 1);
    return true;
  }

  releaseName(address: string): void {
    decrement(this.#names, addressKey(address));
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

/** Bytes held for all recipients together, against one bound. */
export class SharedBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` if they fit. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}
