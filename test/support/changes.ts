// Waiting for a condition without sleeping: whoever changes the state calls
// changed(), and until() re-checks then, failing at its deadline.

export class Changes {
  #waiters: (() => void)[] = [];

  /** Something happened: wake every until() to re-check its condition. */
  changed(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `done()` holds; throws `describe()` at the deadline. Re-checks at least every `recheckMs` too. */
  async until(done: () => boolean, deadlineMs: number, describe: () => string, recheckMs = Number.POSITIVE_INFINITY): Promise<void> {
    const deadline = performance.now() + deadlineMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${deadlineMs} ms: ${describe()}`);
      await this.next(Math.min(left, recheckMs));
    }
  }

  /** Resolves on the next change, or after `ms`. */
  async next(ms: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    const timer = setTimeout(resolve, ms);
    await promise;
    clearTimeout(timer);
  }
}
