// One SEND in flight (PROTOCOL.md §4): a promise that settles exactly once,
// when every recipient answered RECEIVED or when any leg fails. Failure is a
// value, never a rejection, so nothing can become an unhandled rejection.

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
  readonly done: Promise<Outcome>;
  readonly #resolve: (outcome: Outcome) => void;
  #legs: number;
  #outcome: Outcome | undefined;

  constructor(from: string, to: string, legs: number) {
    this.from = from;
    this.to = to;
    this.#legs = legs;
    const { promise, resolve } = Promise.withResolvers<Outcome>();
    this.done = promise;
    this.#resolve = resolve;
  }

  get outcome(): Outcome | undefined {
    return this.#outcome;
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
    this.#resolve(outcome);
  }
}
