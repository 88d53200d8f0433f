// A small seeded PRNG (mulberry32) for fuzz tests and random splits. Same seed,
// same sequence, on every machine: a failing seed printed by a test reproduces
// the failure with PARLEY_SEED=<seed>.

export type Rng = ReturnType<typeof rng>;

export function rng(seed: number) {
  let a = seed >>> 0;
  /** A float in [0, 1). */
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** An integer in [0, n). */
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed: seed >>> 0,
    next,
    int,
    /** True with probability p. */
    chance: (p: number): boolean => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[int(items.length)]!;
    },
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
  };
}

/** A fresh seed for a run that was not given one. */
export function randomSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}

/** The seed in the environment variable `name` (e.g. PARLEY_SEED) if set, else `fallback`. */
export function seedFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback >>> 0;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`${name}=${raw} is not a 32-bit seed`);
  return seed;
}
