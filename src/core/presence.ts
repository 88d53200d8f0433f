// Presence (docs/protocol.md D51-D53): who is online, and notices of arrivals
// and departures for the connections that asked. Notices carry state, not
// toggles, so they can be coalesced: while a connection has bytes waiting, its
// changes wait too, one per name, and a connection too far behind is told to
// ask again instead of being sent its backlog.

import { encodePresence, encodeUsers, resync } from "../protocol/presence.ts";
import { nameKey, sameName } from "../protocol/names.ts";
import type { Directory } from "./directory.ts";
import type { PendingReply } from "./replies.ts";

/** What notices need of a connection's Wire (core/hub.ts): its backlog, and a way to write. */
type Outlet = { readonly queuedBytes: number; write(message: Uint8Array): void };

/** Every connection watching, and the list WHO answers with. */
export class Presence {
  readonly #directory: Directory;
  readonly #watchers = new Set<PresenceWatch>();
  // The sorted list, kept until the next change: a WHO costs a sort only after a change.
  #snapshot: string[] | undefined;

  constructor(directory: Directory) {
    this.#directory = directory;
    directory.watch(this.#changed);
  }

  add(watch: PresenceWatch): void {
    this.#watchers.add(watch);
  }

  delete(watch: PresenceWatch): void {
    this.#watchers.delete(watch);
  }

  /** The names online, sorted regardless of case. */
  snapshot(): readonly string[] {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const keyed = [...this.#directory.online()].map((name) => [nameKey(name), name] as const);
    keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return (this.#snapshot = keyed.map(([, name]) => name));
  }

  /** What the whole list weighs in a USERS body. */
  get listBytes(): number {
    let bytes = 0;
    for (const name of this.snapshot()) bytes += name.length + 1;
    return bytes;
  }

  readonly #changed = (name: string, online: boolean): void => {
    this.#snapshot = undefined;
    for (const watch of this.#watchers) watch.note(name, online);
  };
}

type Change = { readonly name: string; readonly online: boolean };

/** One connection's notices: the changes it has not been told yet, at most `maxPending` names. */
export class PresenceWatch {
  readonly #wire: Outlet;
  readonly #self: string;
  readonly #maxPending: number;
  readonly #pending = new Map<string, Change>();
  #stale = false;
  #scheduled = false;

  constructor(wire: Outlet, self: string, maxPending: number) {
    this.#wire = wire;
    this.#self = self;
    this.#maxPending = maxPending;
  }

  note(name: string, online: boolean): void {
    if (this.#stale || sameName(name, this.#self)) return;
    const key = nameKey(name);
    const told = this.#pending.get(key);
    // Came and went (or went and came back, spelled the same) before being told: nothing changed for this client.
    if (told !== undefined && told.online !== online && told.name === name) this.#pending.delete(key);
    else this.#pending.set(key, { name, online });
    if (this.#pending.size > this.#maxPending) {
      this.#pending.clear();
      this.#stale = true;
    }
    if (!this.#scheduled && this.#wire.queuedBytes === 0) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTurn);
    }
  }

  /** The wire took what it held: time for what waited. */
  onFlushed(): void {
    if (this.#wire.queuedBytes === 0) this.#flush();
  }

  /** A USERS list was written: it tells everything pending. */
  reset(): void {
    this.#pending.clear();
    this.#stale = false;
  }

  readonly #flushTurn = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    if (this.#stale) {
      this.#stale = false;
      this.#wire.write(resync);
      return;
    }
    if (this.#pending.size === 0) return;
    const changes = [...this.#pending.values()];
    this.#pending.clear();
    // One message per write: a WebSocket wire sends each as its own message (docs/protocol.md D44).
    for (const change of changes) this.#wire.write(encodePresence(change.name, change.online));
  }
}

/** The answer to WHO: taken when it is written, so that no notice written before it is newer (D52). */
export class UsersReply implements PendingReply {
  readonly settled = true;
  readonly maxBytes: number;
  readonly #presence: Presence;
  readonly #maxBodyBytes: number;
  readonly #watch: PresenceWatch | undefined;
  #bytes: Uint8Array | undefined;

  constructor(presence: Presence, maxBodyBytes: number, watch: PresenceWatch | undefined) {
    this.#presence = presence;
    this.#maxBodyBytes = maxBodyBytes;
    this.#watch = watch;
    this.maxBytes = maxBodyBytes + 48;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) {
      this.#bytes = encodeUsers(this.#presence.snapshot(), this.#maxBodyBytes);
      this.#watch?.reset();
    }
    return this.#bytes;
  }

  onSettled(callback: () => void): void {
    callback();
  }

  abandon(): void {}
}
