// What a session has asked the server and not yet had answered, oldest first.
// Replies come in request order (docs/protocol.md D14), so each reply answers
// the oldest request. In compat mode (D68) one request is written at a time;
// the rest wait for the reply before theirs.

import type { ServerHead } from "../protocol/messages.ts";

/** The server's reply, or undefined when the connection went before it came. */
export type Reply = { readonly head: ServerHead; readonly body: Uint8Array } | undefined;

export type Request = { readonly bytes: Uint8Array; readonly answer: (reply: Reply) => void };

export class Requests {
  readonly #oneAtATime: boolean;
  #written: Request[] = [];
  #waiting: Request[] = [];

  constructor(oneAtATime: boolean) {
    this.#oneAtATime = oneAtATime;
  }

  /** Requests not yet answered, written or not. */
  get size(): number {
    return this.#written.length + this.#waiting.length;
  }

  /** Takes `request`; returns it when it is to be written now, undefined when it waits its turn. */
  add(request: Request): Request | undefined {
    if (this.#oneAtATime && this.#written.length > 0) {
      this.#waiting.push(request);
      return undefined;
    }
    this.#written.push(request);
    return request;
  }

  /** The oldest request gets `reply`; returns the next one to write, if one was waiting for this reply. */
  answer(reply: NonNullable<Reply>): Request | undefined {
    const oldest = this.#written.shift();
    // docs/protocol.md §4: a reply with nothing outstanding is ignored.
    if (oldest === undefined) return undefined;
    oldest.answer(reply);
    const next = this.#waiting.shift();
    if (next !== undefined) this.#written.push(next);
    return next;
  }

  /** The connection is gone: every request, written or waiting, gets no reply. */
  failAll(): void {
    const all = [...this.#written, ...this.#waiting];
    this.#written = [];
    this.#waiting = [];
    for (const request of all) request.answer(undefined);
  }
}
