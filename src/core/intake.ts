// The order a connection handles what it reads (docs/protocol.md D14, D32):
// each message as it comes, unless a registration waits for its claim or the
// connection pays off its rate. Then what was read waits, in order, with
// reading paused (which bounds it to what was already read), and is handled
// once nothing holds it any more: a pipelined REGISTER + SEND behaves as if
// the claim were instant.

import { ProtocolError } from "../protocol/errors.ts";
import type { ClientHead } from "../protocol/messages.ts";
import type { Clock } from "./clock.ts";
import { HeldMessages, type Held } from "./held.ts";
import type { Pacing } from "./pacing.ts";
import { Pause, type ReadGate } from "./reading.ts";

export type IntakeHandlers = {
  handle(head: ClientHead, body: Uint8Array, headBytes: number): void;
  /** Answers an error in place of a message: the stream could not be parsed, or parley failed. */
  refuse(error: ProtocolError): void;
  /** Nothing holds the messages any more: a half-closed connection may end now (docs/protocol.md D19). */
  caughtUp(): void;
};

export class Intake {
  readonly #held = new HeldMessages();
  readonly #reading: ReadGate;
  readonly #pacing: Pacing;
  readonly #clock: Clock;
  readonly #handle: IntakeHandlers["handle"];
  readonly #refuse: IntakeHandlers["refuse"];
  readonly #caughtUp: IntakeHandlers["caughtUp"];
  #claiming = false;
  #stopped = false;

  constructor(reading: ReadGate, pacing: Pacing, clock: Clock, handlers: IntakeHandlers) {
    this.#reading = reading;
    this.#pacing = pacing;
    this.#clock = clock;
    this.#handle = handlers.handle;
    this.#refuse = handlers.refuse;
    this.#caughtUp = handlers.caughtUp;
  }

  /** Whether messages must wait: a registration is in progress, the rate is being paid off, or others wait already. */
  get holding(): boolean {
    return this.#claiming || this.#pacing.inDebt || !this.#held.isEmpty;
  }

  /** The connection's onMessage: handled now, or held behind what waits. */
  readonly onMessage = (head: ClientHead, body: Uint8Array, headBytes: number): void => {
    if (this.#stopped) return;
    if (this.holding) this.#held.push([head, body, headBytes]);
    else this.#handle(head, body, headBytes);
  };

  /** After what was held, in order. */
  onProtocolError(error: ProtocolError): void {
    if (this.#stopped) return;
    if (this.holding) this.#held.push(error);
    else this.#refuse(error);
  }

  /** A registration waits for its claim: so do the messages after it, unread. */
  claim(): void {
    this.#claiming = true;
    this.#reading.hold(Pause.Registering);
  }

  /** The claim's answer is settled: what was held goes on; with `bug`, parley failed meanwhile and that is answered instead. */
  readonly claimed = (bug: ProtocolError | undefined): void => {
    this.#claiming = false;
    if (bug !== undefined) return this.#refuse(bug);
    // Writing the answer may have closed the connection (its write cap).
    if (this.#stopped) return;
    this.#drain();
    if (this.#stopped || this.#claiming) return;
    this.#reading.release(Pause.Registering);
    this.#caughtUp();
  };

  /** docs/protocol.md D32: in debt, the connection is not read. */
  throttled(): void {
    this.#reading.hold(Pause.Throttled);
  }

  paidOff(): void {
    // Reading stays paused while what was held is handled: that may put the
    // connection in debt again, or start a registration, which hold it anew.
    this.#reading.lift(Pause.Throttled);
    this.#drain();
    if (this.#stopped) return;
    this.#reading.reopen();
    this.#caughtUp();
  }

  /** The connection closes: nothing more is handled; returns what was held, to be answered. */
  stop(): Held[] {
    this.#stopped = true;
    return this.#held.takeAll();
  }

  /** Handles what was held, in order, until a registration or the rate makes the rest wait again. */
  #drain(): void {
    this.#clock.tick();
    while (!this.#claiming && !this.#pacing.inDebt && !this.#stopped) {
      const next = this.#held.next();
      if (next === undefined) return;
      if (next instanceof ProtocolError) this.#refuse(next);
      else this.#handle(next[0], next[1], next[2]);
    }
  }
}
