// One connection's rate (docs/protocol.md D32): a token bucket of messages and
// one of bytes. Spending past them puts the connection in debt; `onPaidOff`
// runs once the debt is paid, and until then the connection is not read.

import type { LimitValues } from "../protocol/limits.ts";
import type { Clock } from "./clock.ts";
import { TokenBucket } from "./policy.ts";

export class Pacing {
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;
  readonly #clock: Clock;
  readonly #onPaidOff: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(limits: LimitValues, clock: Clock, onPaidOff: () => void) {
    this.#messages = new TokenBucket(limits.rateMessages, limits.burstMessages, clock.now);
    this.#bytes = new TokenBucket(limits.rateBytes, limits.burstBytes, clock.now);
    this.#clock = clock;
    this.#onPaidOff = onPaidOff;
  }

  get inDebt(): boolean {
    return this.#timer !== undefined;
  }

  /** Whether a SEND to `recipients` people, costing `bytes` each, fits in a whole burst at all. */
  affords(recipients: number, bytes: number): boolean {
    return recipients <= this.#messages.burst && recipients * bytes <= this.#bytes.burst;
  }

  /** Pays for `messages` costing `bytes` in all; returns how long the debt now takes to pay off (0: none). */
  spend(messages: number, bytes: number): number {
    const now = this.#clock.now;
    const waitMs = Math.max(this.#messages.spend(messages, now), this.#bytes.spend(bytes, now));
    if (waitMs === 0) return 0;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#paidOff, waitMs);
    return waitMs;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #paidOff = (): void => {
    this.#timer = undefined;
    this.#onPaidOff();
  };
}
