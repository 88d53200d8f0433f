// Who is online, as the web client keeps it (docs/protocol.md D51-D53): the
// last USERS list with the ONLINE and OFFLINE notices since applied on top,
// in the order they came. Notices carry state, so applying one twice is harmless.

import { nameKey } from "../protocol/names.ts";
import { decodeUsers } from "../protocol/presence.ts";

export class OnlineList {
  /** name key -> the spelling that registered */
  readonly #names = new Map<string, string>();

  /** A USERS reply: the whole list as it was when written, replacing what was known. */
  replace(body: Uint8Array): void {
    this.#names.clear();
    for (const name of decodeUsers(body)) this.#names.set(nameKey(name), name);
  }

  /** An ONLINE or OFFLINE notice. */
  apply(name: string, online: boolean): void {
    if (online) this.#names.set(nameKey(name), name);
    else this.#names.delete(nameKey(name));
  }

  /** The names, sorted regardless of case. */
  get names(): string[] {
    return [...this.#names.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, name]) => name);
  }
}
