// Steps on one key run one after another, steps on different keys at once:
// the claims and releases of one name on this node (docs/protocol.md D58)
// must not interleave, or a release could delete what a claim just wrote.

export class InTurn {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `step` once every step queued on `key` before it has settled. */
  run<T>(key: string, step: () => Promise<T>): Promise<T> {
    const next = (this.#tails.get(key) ?? Promise.resolve()).then(step, step);
    const tail = next.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** Resolves once every step queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}
