// One SEND in flight (PROTOCOL.md §4): it settles exactly once, when every
// recipient answered RECEIVED or when any leg fails. Failure is a value, never
// a rejection, so nothing can become an unhandled rejection.

export const FailReason = {
  NoRecipient: "no-recipient",
  QueueFull: "queue-full",
  RecipientError: "recipient-error",
  WrongAnswer: "wrong-answer",
  Timeout: "timeout",
  Disconnected: "disconnected",
  SlowConsumer: "slow-consumer",
  Shutdown: "shutdown",
} as const;
export type FailReason = (typeof FailReason)[keyof typeof FailReason];

export type Outcome = { readonly kind: "sent" } | { readonly kind: "failed"; readonly reason: FailReason };

const SENT: Outcome = { kind: "sent" };

export class Transaction {
  /** The sender's name: the name a RECEIVED for this FORWARD must carry. */
  readonly from: string;
  /** A username, or ALL for a broadcast. */
  readonly to: string;
  #legs: number;
  #outcome: Outcome | undefined;
  #onSettled: (() => void) | undefined;
  #done: PromiseWithResolvers<Outcome> | undefined;

  constructor(from: string, to: string, legs: number) {
    this.from = from;
    this.to = to;
    this.#legs = legs;
  }

  get outcome(): Outcome | undefined {
    return this.#outcome;
  }

  /**
   * The outcome as a promise, made on first use. The server's own hot path
   * uses onSettled instead: a promise per SEND was 9% of the relay's JS time
   * in the pipelined bench (Promise.withResolvers plus a microtask each).
   */
  get done(): Promise<Outcome> {
    if (this.#done === undefined) {
      this.#done = Promise.withResolvers<Outcome>();
      if (this.#outcome !== undefined) this.#done.resolve(this.#outcome);
    }
    return this.#done.promise;
  }

  /** Calls `callback` once, when settled (at once if it already is). One listener: the sender's connection. */
  onSettled(callback: () => void): void {
    if (this.#outcome !== undefined) callback();
    else this.#onSettled = callback;
  }

  /** One recipient answered RECEIVED with the right name. */
  ack(): void {
    if (--this.#legs === 0) this.#settle(SENT);
  }

  fail(reason: FailReason): void {
    this.#settle({ kind: "failed", reason });
  }

  // The one way out: idempotent, so a late answer or a second failure is a no-op.
  #settle(outcome: Outcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    this.#done?.resolve(outcome);
    const callback = this.#onSettled;
    this.#onSettled = undefined;
    callback?.();
  }
}
