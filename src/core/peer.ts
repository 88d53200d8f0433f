// One client connection as the core sees it, whatever carries it: its roles,
// the FORWARDs it owes answers for (Inbox), the replies it is owed in request
// order (ReplyQueue), and the one way it closes. A transport hands it decoded
// messages and gives it a Wire to write to.

import { ErrorCode, encodeError, type ProtocolError } from "../protocol/errors.ts";
import { Role, encodeRegistered, type ClientHead } from "../protocol/messages.ts";
import { isValidUsername, sameName } from "../protocol/names.ts";
import type { Endpoint } from "./endpoint.ts";
import type { User } from "./directory.ts";
import type { Hub, Wire } from "./hub.ts";
import { Inbox } from "./inbox.ts";
import { CloseReason, closeFailure } from "./reasons.ts";
import { DeferredReply, ReplyQueue } from "./replies.ts";
import { Transaction } from "./transaction.ts";

const unableToSend = encodeError(ErrorCode.UnableToSend);
const noUserRegistered = encodeError(ErrorCode.NoUserRegistered);
const usernameTaken = encodeError(ErrorCode.UsernameTaken);
const malformedUsername = encodeError(ErrorCode.MalformedUsername);

let nextId = 1;

export class Peer implements Endpoint {
  readonly id = nextId++;
  readonly address: string;
  readonly #hub: Hub;
  readonly #wire: Wire;
  readonly #inbox: Inbox;
  readonly #replies: ReplyQueue;
  #name: string | undefined;
  #user: User | undefined;
  #sends = false;
  #receives = false;
  #peerEnded = false;
  #closed = false;
  #registerTimer: ReturnType<typeof setTimeout> | undefined;
  // Messages that arrived while a registration waits for the directory: they
  // are handled after it, in order, so a pipelined REGISTER + SEND behaves as
  // if the claim were instant. The wire is paused meanwhile, which bounds this.
  #held: [ClientHead, Uint8Array][] | undefined;

  constructor(wire: Wire, hub: Hub) {
    this.address = wire.address;
    this.#hub = hub;
    this.#wire = wire;
    this.#inbox = new Inbox(hub.limits.ackTimeoutMs, hub.limits.maxPendingForwards, this.#onAckDeadline);
    this.#replies = new ReplyQueue((bytes) => wire.write(bytes), () => this.#endIfDone());
    hub.peers.add(this);
    // docs/protocol.md §1 limits: a connection must register a role in time.
    this.#registerTimer = setTimeout(() => this.close(CloseReason.RegisterTimeout), hub.limits.registerTimeoutMs);
    hub.events.emit({ type: "connection.open", id: this.id, address: this.address });
  }

  get name(): string | undefined {
    return this.#name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One decoded message from the transport. */
  readonly onMessage = (head: ClientHead, body: Uint8Array): void => {
    if (this.#closed) return;
    if (this.#held !== undefined) {
      this.#held.push([head, body]);
      return;
    }
    switch (head.verb) {
      case "REGISTER":
        return this.#register(head.role, head.name);
      case "SEND":
        // docs/protocol.md §3: only a registered user's sending connection may SEND.
        if (!this.#user?.registered || !this.#sends) return this.#reply(noUserRegistered);
        return this.#send(head.to, body);
      case "RECEIVED":
      case "ERROR":
        if (!this.#user?.registered) return this.#reply(noUserRegistered);
        // docs/protocol.md §3: an answer on a connection that does not receive is ignored.
        if (this.#receives) this.#inbox.answer(head.verb === "RECEIVED" ? head.from : undefined);
        return;
    }
  };

  /** The stream could not be parsed: answer the error, then close (ERROR 103 always closes). */
  onProtocolError(error: ProtocolError): void {
    if (this.#closed) return;
    this.#hub.events.emit({ type: "connection.refused", id: this.id, user: this.#name, reason: error.reason, detail: error.detail });
    this.#reply(error.toWire());
    if (error.closes) this.#close(CloseReason.ProtocolError, "flush");
  }

  /** The peer half-closed: it sends nothing more, but a sender may still be owed replies (docs/protocol.md D19). */
  onEnd(): void {
    if (this.#closed) return;
    this.#peerEnded = true;
    this.#endIfDone();
  }

  /** The transport is gone. */
  onClose(): void {
    this.#close(CloseReason.PeerClosed, "gone");
  }

  /** The transport holds more than the write cap allows. */
  onOverflow(): void {
    if (this.#closed) return;
    this.#hub.events.emit({ type: "connection.slow-consumer", id: this.id, user: this.#name });
    this.#close(CloseReason.SlowConsumer, "drop");
  }

  /** Endpoint: close after answering what is owed (a lost partner, a deadline). */
  close(reason: CloseReason): void {
    this.#close(reason, "flush");
  }

  /** Server shutdown: every SEND in flight is answered (docs/protocol.md D22), then the connection ends. */
  shutdown(): void {
    this.#close(CloseReason.Shutdown, "flush");
  }

  /** Endpoint: the receiving half of delivery. */
  forward(tx: Transaction, body: Uint8Array): boolean {
    if (this.#closed || this.#inbox.isFull) return false;
    this.#wire.writeForward(tx.from, body);
    if (this.#closed) return false; // the write made it a slow consumer
    this.#inbox.push(tx);
    return true;
  }

  #register(role: Role, name: string): void {
    if (!isValidUsername(name)) return this.#reply(malformedUsername);
    // docs/protocol.md §3: one connection, one name (§6: in any case).
    if (this.#name !== undefined && !sameName(this.#name, name)) return this.#reply(usernameTaken);
    if (role === Role.ToSend ? this.#sends : this.#receives) return this.#reply(encodeRegistered(role, this.#name!));
    const reply = new DeferredReply(name.length + 20);
    this.#reply(reply);
    this.#held = [];
    this.#wire.pause();
    this.#hub.directory.claim(name, role, this).then(
      (user) => this.#claimed(role, name, user, reply),
      (error: unknown) => {
        this.#hub.events.emit({ type: "connection.bug", id: this.id, error: String((error as Error)?.stack ?? error) });
        this.#claimed(role, name, undefined, reply);
      },
    );
  }

  #claimed(role: Role, name: string, user: User | undefined, reply: DeferredReply): void {
    if (this.#closed) {
      // The connection went while the directory decided: give the role back.
      if (user !== undefined) this.#hub.directory.release(name, this);
      return;
    }
    if (user === undefined) {
      reply.settle(usernameTaken);
    } else {
      // docs/protocol.md §6: the spelling that registered first is the name's.
      this.#name = user.name;
      this.#user = user;
      if (role === Role.ToSend) this.#sends = true;
      else this.#receives = true;
      clearTimeout(this.#registerTimer);
      this.#registerTimer = undefined;
      if (user.registered) this.#hub.events.emit({ type: "user.registered", user: user.name, address: this.address });
      reply.settle(encodeRegistered(role, user.name));
    }
    const held = this.#held!;
    this.#held = undefined;
    for (let i = 0; i < held.length && !this.#closed; i++) {
      this.onMessage(held[i]![0], held[i]![1]);
      // Another registration started: the rest waits for it in turn.
      const again = this.#held as [ClientHead, Uint8Array][] | undefined;
      if (again !== undefined) {
        for (let j = i + 1; j < held.length; j++) again.push(held[j]!);
        return;
      }
    }
    if (this.#closed) return;
    this.#wire.resume();
    this.#endIfDone();
  }

  #send(to: string, body: Uint8Array): void {
    const sent = this.#hub.delivery.send(this.#name!, to, body);
    if (sent instanceof Transaction) return this.#reply(sent);
    if (this.#hub.events.wants("send.failed")) this.#hub.events.emit({ type: "send.failed", from: this.#name!, to, reason: sent });
    this.#reply(unableToSend);
  }

  #reply(reply: Uint8Array | Transaction | DeferredReply): void {
    this.#replies.add(reply);
    if (this.#replies.bytes > 0 && this.#replies.bytes + this.#wire.queuedBytes > this.#hub.limits.maxQueuedBytes) this.onOverflow();
  }

  /** docs/protocol.md D19: a half-closed receiver goes at once; a half-closed sender once its replies are written. */
  #endIfDone(): void {
    if (this.#closed || !this.#peerEnded || this.#held !== undefined) return;
    if (this.#receives || this.#replies.isEmpty) this.#close(CloseReason.PeerEnded, "flush");
  }

  readonly #onAckDeadline = (waitedMs: number): void => {
    this.#hub.events.emit({ type: "recipient.timeout", id: this.id, user: this.#name, waitedMs: Math.round(waitedMs) });
    this.#close(CloseReason.AckTimeout, "drop");
  };

  /**
   * The one way down. "flush": answer every reply owed (ERROR 102 for SENDs
   * still in flight), flush, then end; "drop": end now; "gone": the transport
   * is already closed.
   */
  #close(reason: CloseReason, how: "flush" | "drop" | "gone"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    clearTimeout(this.#registerTimer);
    this.#hub.events.emit({ type: "connection.close", id: this.id, user: this.#name, reason });
    const failure = closeFailure[reason];
    this.#replies.abandon(failure, how === "flush");
    this.#inbox.failAll(failure);
    if (this.#name !== undefined) this.#hub.directory.release(this.#name, this);
    this.#hub.peers.delete(this);
    if (how === "flush") this.#wire.end();
    else if (how === "drop") this.#wire.drop();
  }
}
