// One connection's rate (docs/protocol.md D32): a token bucket of messages and
// one of bytes. Spending past them puts the connection in debt (`onThrottled`);
// `onPaidOff` runs once the debt is paid, and until then the connection is not read.

import type { LimitValues } from "../protocol/limits.ts";
import type { Clock } from "./clock.ts";
import { TokenBucket } from "./policy.ts";

export class Pacing {
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;
  readonly #clock: Clock;
  readonly #handlers: PacingHandlers;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(limits: LimitValues, clock: Clock, handlers: PacingHandlers) {
    this.#messages = new TokenBucket(limits.rateMessages, limits.burstMessages, clock.now);
    this.#bytes = new TokenBucket(limits.rateBytes, limits.burstBytes, clock.now);
    this.#clock = clock;
    this.#handlers = handlers;
  }

  get inDebt(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * A SEND to `recipients` people, costing `bytes` each, costs its message once
   * per recipient; one that costs more than a whole burst may not go (and costs
   * one message). Returns whether it may go.
   */
  admit(recipients: number, bytes: number): boolean {
    if (recipients > this.#messages.burst || recipients * bytes > this.#bytes.burst) {
      this.spend(1, bytes);
      return false;
    }
    this.spend(recipients, recipients * bytes);
    return true;
  }

  /** Pays for `messages` costing `bytes` in all. */
  spend(messages: number, bytes: number): void {
    const now = this.#clock.now;
    const waitMs = Math.max(this.#messages.spend(messages, now), this.#bytes.spend(bytes, now));
    if (waitMs === 0) return;
    const wasInDebt = this.#timer !== undefined;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#paidOff, waitMs);
    if (!wasInDebt) this.#handlers.onThrottled(waitMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #paidOff = (): void => {
    this.#timer = undefined;
    this.#handlers.onPaidOff();
  };
}

export type PacingHandlers = {
  /** The connection went into debt, to be paid off in `waitMs`. */
  onThrottled(waitMs: number): void;
  onPaidOff(): void;
};
