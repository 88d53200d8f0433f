// A connection's registration (docs/protocol.md §3, §6, §7): the name and
// roles it holds, and how it comes to hold them: the checks a REGISTER passes,
// the claim (the authority, then the directory), what the claim's outcome
// does, and the deadline to register by.

import { ErrorCode, ProtocolError, ProtocolReason, encodeError } from "../protocol/errors.ts";
import { Role, type ClientHead } from "../protocol/messages.ts";
import { isValidUsername, sameName } from "../protocol/names.ts";
import { passwordProblem } from "../protocol/password.ts";
import { inRanges } from "./address.ts";
import type { ClaimRefusal, User } from "./directory.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Grants } from "./grants.ts";
import type { Hub, Wire } from "./hub.ts";
import type { Intake } from "./intake.ts";
import { PresenceWatch } from "./presence.ts";
import { CloseReason, closeReservesName } from "./reasons.ts";
import { DeferredReply, type PendingReply } from "./replies.ts";

/** How a claim ended: the user, or why not (the directory's refusals, or the authority's). */
type ClaimOutcome = User | ClaimRefusal | "refused" | "busy";
type Refusal = Exclude<ClaimOutcome, User>;

const malformedUsername = encodeError(ErrorCode.MalformedUsername);
const serverBusy = encodeError(ErrorCode.ServerBusy);

/** What each refusal answers: taken is ERROR 104; a cap, ERROR 106; the authority's no, ERROR 105 (the connection stays open for another try). */
const refusalAnswer: { readonly [R in Refusal]: Uint8Array } = {
  taken: encodeError(ErrorCode.UsernameTaken),
  "address-full": serverBusy,
  busy: serverBusy,
  refused: encodeError(ErrorCode.NotAuthorized),
};

/** The longest answer a pending registration may turn out to be besides REGISTERED, counted against the write cap. */
const longestRefusal = Math.max(...Object.values(refusalAnswer).map((bytes) => bytes.length));

/** The connection registering, as its registration sees it. */
export type Registrant = Endpoint & { readonly id: number; readonly closed: boolean };

/** The connection's parts a registration works with. */
export type RegistrationParts = {
  readonly grants: Grants;
  /** Holds the connection's later messages while a claim waits (docs/protocol.md D14). */
  readonly intake: Intake;
  /** Queues an answer in request order. */
  readonly reply: (reply: Uint8Array | PendingReply) => void;
};

export class Registration {
  readonly #hub: Hub;
  readonly #wire: Wire;
  readonly #peer: Registrant;
  readonly #grants: Grants;
  readonly #intake: Intake;
  readonly #reply: RegistrationParts["reply"];
  #name: string | undefined;
  #user: User | undefined;
  #sends = false;
  #receives = false;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  // Arrivals and departures for this connection, once it receives and asked for presence (docs/protocol.md D52).
  #watch: PresenceWatch | undefined;

  constructor(hub: Hub, wire: Wire, peer: Registrant, parts: RegistrationParts) {
    this.#hub = hub;
    this.#wire = wire;
    this.#peer = peer;
    this.#grants = parts.grants;
    this.#intake = parts.intake;
    this.#reply = parts.reply;
  }

  /** The name it holds a role of, as spelled when it registered. */
  get name(): string | undefined {
    return this.#name;
  }

  get user(): User | undefined {
    return this.#user;
  }

  get sends(): boolean {
    return this.#sends;
  }

  get receives(): boolean {
    return this.#receives;
  }

  get watch(): PresenceWatch | undefined {
    return this.#watch;
  }

  /** docs/protocol.md §1 limits: a connection must register a role in time. */
  startDeadline(): void {
    this.#deadline = setTimeout(() => this.#peer.close(CloseReason.RegisterTimeout), this.#hub.limits.registerTimeoutMs);
  }

  /** Answers a REGISTER now, or claims the role and answers once the claim is decided. */
  register(head: Extract<ClientHead, { verb: "REGISTER" }>): void {
    if (head.extensions !== undefined) this.#grants.negotiate(head.extensions);
    const answer = this.#answer(head.role, head.name, head.password);
    this.#reply(answer);
    if (!(answer instanceof Uint8Array)) this.#claim(head.role, head.name, head.password, answer);
  }

  /** The connection is closing: no deadline, no notices, and the name is given back (or kept a while, by `reason`). */
  leave(reason: CloseReason): void {
    clearTimeout(this.#deadline);
    if (this.#watch !== undefined) this.#hub.presence.delete(this.#watch);
    if (this.#name !== undefined) this.#hub.directory.release(this.#name, this.#peer, closeReservesName[reason]);
  }

  /** The answer to `REGISTER <role> <name>`: bytes now, or a reply that the claim settles. */
  #answer(role: Role, name: string, password: Uint8Array | undefined): Uint8Array | DeferredReply {
    if (!isValidUsername(name)) return malformedUsername;
    // docs/protocol.md §3: one connection, one name (§6: in any case).
    if (this.#name !== undefined && !sameName(this.#name, name)) return refusalAnswer.taken;
    if (role === Role.ToSend ? this.#sends : this.#receives) {
      this.#watchIfAsked();
      return this.#grants.registered(role, this.#name!);
    }
    const unfit = password === undefined ? undefined : this.#unfitPassword(password);
    if (unfit !== undefined) {
      this.#hub.events.emit({ type: "auth.refused", id: this.#peer.id, user: name, reason: unfit });
      return refusalAnswer.refused;
    }
    return new DeferredReply(Math.max(name.length + 20, longestRefusal));
  }

  /**
   * Asks the authority, then (unless the connection went meanwhile) the
   * directory, and settles `reply` with the outcome; the connection's later
   * messages wait for it (docs/protocol.md D14).
   */
  #claim(role: Role, name: string, password: Uint8Array | undefined, reply: DeferredReply): void {
    this.#intake.claim();
    this.#authorizeAndClaim(role, name, password)
      .then((outcome) => this.#claimed(role, name, outcome, reply))
      .catch((bug: unknown) => {
        // A bug in parley, not the client's doing: log it and end this connection only (Bun exits on an unhandled rejection).
        this.#hub.events.emit({ type: "connection.bug", id: this.#peer.id, error: String((bug as Error)?.stack ?? bug) });
        reply.settle(undefined);
        this.#intake.claimed(new ProtocolError(ErrorCode.HeaderIncomplete, "internal error", ProtocolReason.Internal));
      });
  }

  /** docs/protocol.md §7: a password only over TLS or from an address trusted with it, and only a well-formed one. */
  #unfitPassword(password: Uint8Array): "plaintext" | "malformed" | undefined {
    if (!this.#wire.secure && !inRanges(this.#peer.address, this.#hub.trustPlaintext)) return "plaintext";
    return passwordProblem(password) === undefined ? undefined : "malformed";
  }

  async #authorizeAndClaim(role: Role, name: string, password: Uint8Array | undefined): Promise<ClaimOutcome> {
    const authorized = await this.#hub.authority.authorize(name, password, this.#peer.address);
    if (authorized !== "ok") return authorized;
    return this.#peer.closed ? "taken" : this.#hub.directory.claim(name, role, this.#peer);
  }

  #claimed(role: Role, name: string, outcome: ClaimOutcome, reply: DeferredReply): void {
    if (this.#peer.closed) {
      // The connection went while the directory decided: give the role back.
      if (typeof outcome === "object") this.#hub.directory.release(name, this.#peer, false);
      return;
    }
    if (typeof outcome === "string") {
      if (outcome === "refused" || outcome === "busy") this.#hub.events.emit({ type: "auth.refused", id: this.#peer.id, user: name, reason: outcome });
      if (outcome === "address-full") this.#hub.events.emit({ type: "connection.busy", id: this.#peer.id, address: this.#peer.address, cap: "names" });
      reply.settle(refusalAnswer[outcome]);
    } else {
      // docs/protocol.md §6: the spelling that registered first is the name's.
      this.#name = outcome.name;
      this.#user = outcome;
      if (role === Role.ToSend) this.#sends = true;
      else this.#receives = true;
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
      this.#watchIfAsked();
      if (outcome.registered && !outcome.announced) {
        outcome.announced = true;
        this.#hub.events.emit({ type: "user.registered", user: outcome.name, address: this.#peer.address });
      }
      reply.settle(this.#grants.registered(role, outcome.name));
    }
    this.#intake.claimed(undefined);
  }

  /** docs/protocol.md D52: a receiving connection that asked for presence is told of arrivals and departures. */
  #watchIfAsked(): void {
    if (this.#watch !== undefined || !this.#receives || !this.#grants.presence) return;
    this.#watch = new PresenceWatch(this.#wire, this.#name!, this.#hub.limits.maxPresencePending);
    this.#hub.presence.add(this.#watch);
  }
}
