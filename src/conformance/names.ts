// Fresh names for every check of a run, from a seed the run prints: `alice`
// becomes `alice` and six random letters and digits, so a run never meets a
// name an earlier run (or anyone else) still holds, and a seed replays it.

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

export class Names {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A namer for one check: the same base gives the same name within it. */
  forCheck(): (base: string) => string {
    const given = new Map<string, string>();
    return (base) => {
      let name = given.get(base);
      if (name === undefined) {
        name = base + Array.from({ length: 6 }, () => alphabet[this.#next(alphabet.length)]).join("");
        given.set(base, name);
      }
      return name;
    };
  }

  /** mulberry32: an integer in [0, n). */
  #next(n: number): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  }
}
