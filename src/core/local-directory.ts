// The directory of one process: a map from name (regardless of case) to User.
// A user is registered once both roles are held; losing either ends the
// registration and frees the name (docs/protocol.md §3), or keeps it a while
// for its address after an unclean loss (§6). The pairing guard and deadline,
// and the count of names per address, live here.

import { Role } from "../protocol/messages.ts";
import { nameKey, sameName } from "../protocol/names.ts";
import { User, type ClaimRefusal, type Directory, type PresenceListener } from "./directory.ts";
import type { Endpoint } from "./endpoint.ts";
import type { AddressBook } from "./policy.ts";
import { CloseReason } from "./reasons.ts";

type Reservation = { readonly address: string; readonly until: number };

export class LocalDirectory implements Directory {
  readonly #users = new Map<string, User>();
  readonly #timers = new Map<User, ReturnType<typeof setTimeout>>();
  readonly #reserved = new Map<string, Reservation>();
  readonly #pairingTimeoutMs: number;
  readonly #graceMs: number;
  readonly #addresses: AddressBook | undefined;
  #listener: PresenceListener | undefined;

  /** Without `addresses`, names per address are not counted. */
  constructor(pairingTimeoutMs: number, graceMs = 0, addresses?: AddressBook) {
    this.#pairingTimeoutMs = pairingTimeoutMs;
    this.#graceMs = graceMs;
    this.#addresses = addresses;
  }

  get size(): number {
    return this.#users.size;
  }

  // The work is done before the promise is made, so two claims in one turn
  // are decided in the order they were asked.
  claim(name: string, role: Role, endpoint: Endpoint): Promise<User | ClaimRefusal> {
    return Promise.resolve(this.#claim(name, role, endpoint));
  }

  #claim(name: string, role: Role, endpoint: Endpoint): User | ClaimRefusal {
    const key = nameKey(name);
    let user = this.#users.get(key);
    if (user === undefined) {
      const reservation = this.#reserved.get(key);
      if (reservation !== undefined && reservation.until > performance.now() && reservation.address !== endpoint.address) return "taken";
      this.#reserved.delete(key);
      if (this.#addresses?.claimName(endpoint.address) === false) return "address-full";
      user = new User(name, endpoint.address);
      this.#users.set(key, user);
      const pending = user;
      // docs/protocol.md §1 limits: both roles within the deadline of the first.
      this.#timers.set(user, setTimeout(() => this.#expire(pending), this.#pairingTimeoutMs));
    } else if (user.address !== endpoint.address) {
      // docs/protocol.md §3 pairing guard: nobody else may take the other half.
      return "taken";
    }
    const held = role === Role.ToSend ? user.sender : user.receiver;
    if (held !== undefined && held !== endpoint) return "taken";
    const was = user.registered;
    if (role === Role.ToSend) user.sender = endpoint;
    else user.receiver = endpoint;
    if (user.registered && !was) {
      this.#stopTimer(user);
      this.#listener?.(user.name, true);
    }
    return user;
  }

  lookup(name: string): Endpoint | undefined {
    // Most SENDs spell the name as it registered: only a miss pays for lowering it.
    const user = this.#users.get(name) ?? this.#users.get(nameKey(name));
    return user?.registered ? user.receiver : undefined;
  }

  receivers(except: string): Endpoint[] {
    const receivers: Endpoint[] = [];
    for (const user of this.#users.values()) if (user.registered && !sameName(user.name, except)) receivers.push(user.receiver!);
    return receivers;
  }

  *online(): Iterable<string> {
    for (const user of this.#users.values()) if (user.registered) yield user.name;
  }

  watch(listener: PresenceListener): void {
    this.#listener = listener;
  }

  release(name: string, endpoint: Endpoint, reserve: boolean): void {
    const key = nameKey(name);
    const user = this.#users.get(key);
    if (user === undefined || (user.sender !== endpoint && user.receiver !== endpoint)) return;
    this.#users.delete(key);
    this.#addresses?.releaseName(user.address);
    this.#stopTimer(user);
    if (reserve && user.registered && this.#graceMs > 0) this.#reserve(key, user.address);
    if (user.registered) this.#listener?.(user.name, false);
    const { sender, receiver } = user;
    user.sender = user.receiver = undefined;
    if (sender !== undefined && sender !== endpoint) sender.close(CloseReason.PartnerClosed);
    if (receiver !== undefined && receiver !== endpoint && receiver !== sender) receiver.close(CloseReason.PartnerClosed);
  }

  #reserve(key: string, address: string): void {
    const now = performance.now();
    // Expired reservations are dropped as new ones come, so the map stays as large as one grace's worth of losses.
    if (this.#reserved.size >= 1024) for (const [each, held] of this.#reserved) if (held.until <= now) this.#reserved.delete(each);
    this.#reserved.set(key, { address, until: now + this.#graceMs });
  }

  #stopTimer(user: User): void {
    clearTimeout(this.#timers.get(user));
    this.#timers.delete(user);
  }

  #expire(user: User): void {
    this.#timers.delete(user);
    if (this.#users.get(nameKey(user.name)) !== user || user.registered) return;
    (user.sender ?? user.receiver)?.close(CloseReason.PairingTimeout);
  }
}
