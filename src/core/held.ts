// Messages read while a connection waits (a registration in progress, a rate
// to pay off), in order, with the stream's end in an error last. Handled
// from an index, so each costs one step however many registrations are among them.

import type { ProtocolError } from "../protocol/errors.ts";
import type { ClientHead } from "../protocol/messages.ts";

export type Held = [head: ClientHead, body: Uint8Array, headBytes: number] | ProtocolError;

export class HeldMessages {
  #items: Held[] = [];
  #at = 0;

  get isEmpty(): boolean {
    return this.#at === this.#items.length;
  }

  push(item: Held): void {
    this.#items.push(item);
  }

  /** The oldest not yet handled, or undefined (and the queue is emptied). */
  next(): Held | undefined {
    const item = this.#items[this.#at];
    if (item === undefined) {
      this.#items = [];
      this.#at = 0;
      return undefined;
    }
    this.#at++;
    return item;
  }

  /** Everything not yet handled, taken out. */
  takeAll(): Held[] {
    const rest = this.#items.slice(this.#at);
    this.#items = [];
    this.#at = 0;
    return rest;
  }
}
