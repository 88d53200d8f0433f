// Who holds which name (docs/protocol.md §3), as the core asks it. Claims and
// releases may take a round trip (a cluster's bus), so they are async; the
// lookup on every SEND is synchronous (a local map, which a cluster keeps
// fresh), and a miss may become an async lookup of its own.

import type { Role } from "../protocol/messages.ts";
import type { Endpoint } from "./endpoint.ts";

/** A name with the endpoints holding its two roles. */
export class User {
  readonly name: string;
  /** The address of the first role: the second must come from the same one (the pairing guard). */
  readonly address: string;
  sender: Endpoint | undefined;
  receiver: Endpoint | undefined;
  /** Whether its registration was logged: both roles' answers may arrive after both claims. */
  announced = false;

  constructor(name: string, address: string) {
    this.name = name;
    this.address = address;
  }

  get registered(): boolean {
    return this.sender !== undefined && this.receiver !== undefined;
  }
}

/** Why a claim was refused: the role is held, or the name is kept for another address (ERROR 104); or the address holds its share of names (ERROR 106). */
export type ClaimRefusal = "taken" | "address-full";

export interface Directory {
  /** Names with at least one role held. */
  readonly size: number;
  /** Gives `role` of `name` (in any case) to `endpoint`, or says why not. */
  claim(name: string, role: Role, endpoint: Endpoint): Promise<User | ClaimRefusal>;
  /**
   * `endpoint` is gone: the user's other endpoint is closed too, and the name
   * is freed, or with `reserve` kept a short while for the user's address.
   */
  release(name: string, endpoint: Endpoint, reserve: boolean): void;
  /**
   * The receiving endpoint of the registered user `name`. A directory that
   * cannot answer from what it holds returns a promise (a cluster asking its bus).
   */
  lookup(name: string): Endpoint | undefined | Promise<Endpoint | undefined>;
  /** The receiving endpoints of every registered user but `except`, for a broadcast. */
  receivers(except: string): Endpoint[];
  /** The names of the registered users: who is online (docs/protocol.md D51). */
  online(): Iterable<string>;
  /** Calls `listener` whenever a user becomes registered (true) or stops being registered (false). */
  watch(listener: PresenceListener): void;
}

export type PresenceListener = (name: string, online: boolean) => void;
