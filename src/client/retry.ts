// When a session tries again after losing its connection: after each delay of
// its backoff (backoff.ts), doubling up to the cap, and from the start again
// once it is connected.

import type { Backoff } from "./backoff.ts";

export class Retry {
  readonly #backoff: Backoff;
  #delayMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(backoff: Backoff) {
    this.#backoff = backoff;
    this.#delayMs = backoff.initialMs;
  }

  /** Connected: the next loss waits the first delay again. */
  reset(): void {
    this.#delayMs = this.#backoff.initialMs;
  }

  /** Runs `attempt` after the next delay; returns that delay. */
  schedule(attempt: () => void): number {
    const delay = this.#delayMs;
    this.#delayMs = Math.min(delay * 2, this.#backoff.maxMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      attempt();
    }, delay);
    return delay;
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
