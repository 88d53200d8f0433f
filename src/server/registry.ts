// Who holds which role of which name (PROTOCOL.md §3). A user is registered
// once both roles are held; losing either ends the registration and frees the
// name. The pairing guard and the pairing deadline live here.

import { Role } from "../protocol/messages.ts";
import type { Endpoint } from "./endpoint.ts";

export class User {
  readonly name: string;
  /** The address of the first role: the second must come from the same one. */
  readonly address: string;
  sender: Endpoint | undefined;
  receiver: Endpoint | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(name: string, address: string) {
    this.name = name;
    this.address = address;
  }

  get registered(): boolean {
    return this.sender !== undefined && this.receiver !== undefined;
  }
}

export class Registry {
  readonly #users = new Map<string, User>();
  readonly #pairingTimeoutMs: number;

  constructor(pairingTimeoutMs: number) {
    this.#pairingTimeoutMs = pairingTimeoutMs;
  }

  /** Names with at least one role held. */
  get size(): number {
    return this.#users.size;
  }

  /**
   * Gives `role` of `name` to `endpoint`, or undefined if the role is held by
   * another endpoint or the pairing guard refuses (both ERROR 104).
   */
  claim(name: string, role: Role, endpoint: Endpoint): User | undefined {
    let user = this.#users.get(name);
    if (user === undefined) {
      user = new User(name, endpoint.address);
      this.#users.set(name, user);
      const pending = user;
      // PROTOCOL.md §1 limits: both roles within the deadline of the first.
      user.timer = setTimeout(() => this.#expire(pending), this.#pairingTimeoutMs);
    } else if (user.address !== endpoint.address) {
      // PROTOCOL.md §3 pairing guard: nobody else may take the other half.
      return undefined;
    }
    const held = role === Role.ToSend ? user.sender : user.receiver;
    if (held !== undefined && held !== endpoint) return undefined;
    if (role === Role.ToSend) user.sender = endpoint;
    else user.receiver = endpoint;
    if (user.registered) {
      clearTimeout(user.timer);
      user.timer = undefined;
    }
    return user;
  }

  /** The registered user called `name`, if both roles are held. */
  registered(name: string): User | undefined {
    const user = this.#users.get(name);
    return user?.registered ? user : undefined;
  }

  /** Every registered user; a snapshot, so closing one while iterating is safe. */
  registeredUsers(): User[] {
    const users: User[] = [];
    for (const user of this.#users.values()) if (user.registered) users.push(user);
    return users;
  }

  /** `endpoint` is gone: the name is freed and the user's other connection is closed too (PROTOCOL.md §3). */
  release(name: string, endpoint: Endpoint): void {
    const user = this.#users.get(name);
    if (user === undefined || (user.sender !== endpoint && user.receiver !== endpoint)) return;
    this.#users.delete(name);
    clearTimeout(user.timer);
    const { sender, receiver } = user;
    user.sender = user.receiver = undefined;
    if (sender !== undefined && sender !== endpoint) sender.close("partner connection closed");
    if (receiver !== undefined && receiver !== endpoint && receiver !== sender) receiver.close("partner connection closed");
  }

  #expire(user: User): void {
    user.timer = undefined;
    if (this.#users.get(user.name) !== user || user.registered) return;
    const holder = user.sender ?? user.receiver;
    holder?.close("registration not completed in time");
  }
}
