// One client connection: its framer, its roles, the answers it owes (as a
// recipient) and the replies it is owed (as a sender, in SEND order). It
// speaks to the network only through a Link and an Outbox.

import { ErrorCode, ProtocolError, encodeError } from "../protocol/errors.ts";
import { Framer } from "../protocol/framer.ts";
import type { LimitValues } from "../protocol/limits.ts";
import { Role, decodeClientHead, encodeForwardHead, encodeRegistered, encodeSent, type ClientHead } from "../protocol/messages.ts";
import { isValidUsername } from "../protocol/names.ts";
import { Outbox, type ByteSink } from "../net/outbox.ts";
import type { Delivery } from "./delivery.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Logger } from "./log.ts";
import type { Registry, User } from "./registry.ts";
import { FailReason, Transaction } from "./transaction.ts";

/** The transport under a connection: a Bun socket, or anything shaped like one. */
export interface Link extends ByteSink {
  readonly remoteAddress: string;
}

/** What every connection of one server shares. */
export type Hub = {
  readonly limits: LimitValues;
  readonly registry: Registry;
  readonly delivery: Delivery;
  readonly log: Logger;
  readonly connections: Set<Connection>;
};

const unableToSend = encodeError(ErrorCode.UnableToSend);
const maxCachedReplies = 64;
const noUserRegistered = encodeError(ErrorCode.NoUserRegistered);

/** A reply owed in request order: bytes ready now, or a transaction still in flight. */
type Reply = Uint8Array | Transaction;

let nextId = 1;

export class Connection implements Endpoint {
  readonly id = nextId++;
  readonly address: string;
  readonly #hub: Hub;
  readonly #link: Link;
  readonly #framer: Framer<ClientHead>;
  readonly #outbox: Outbox;
  #name: string | undefined;
  #user: User | undefined;
  #sends = false;
  #receives = false;
  #peerEnded = false;
  #closed = false;
  #registerTimer: ReturnType<typeof setTimeout> | undefined;
  // Receiving role: FORWARDs written and not yet answered, oldest first, with
  // when each was written (PROTOCOL.md §4: answers come in this order).
  #awaiting: Transaction[] = [];
  #awaitingSince: number[] = [];
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  // Sending role: replies owed, in the order of the requests (PROTOCOL.md §4 pipelining).
  #replies: Reply[] = [];
  // Encoded headers this connection writes again and again (shared bytes: the outbox never mutates them).
  #lastForwardHead: { length: number; bytes: Uint8Array } | undefined;
  readonly #sentReplies = new Map<string, Uint8Array>();
  // Their bytes. Replies held behind a SEND in flight are bytes waiting to be
  // written to this connection, so they count toward the slow-consumer cap
  // (PROTOCOL.md §1 limits): else a pipeline behind one unanswered SEND grows
  // without bound until the ack timeout.
  #repliesBytes = 0;

  constructor(link: Link, hub: Hub) {
    this.address = link.remoteAddress;
    this.#hub = hub;
    this.#link = link;
    this.#framer = new Framer(hub.limits, decodeClientHead);
    this.#outbox = new Outbox(link, hub.limits.maxQueuedBytes, this.#onOverflow);
    hub.connections.add(this);
    // PROTOCOL.md §1 limits: a connection must register a role in time.
    this.#registerTimer = setTimeout(() => this.close("no role registered in time"), hub.limits.registerTimeoutMs);
    hub.log.debug?.("connection.open", { id: this.id, address: this.address });
  }

  get name(): string | undefined {
    return this.#name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onData(chunk: Uint8Array): void {
    if (this.#closed || this.#peerEnded) return;
    let error: ProtocolError | undefined;
    try {
      error = this.#framer.push(chunk, this.#onFrame);
    } catch (bug) {
      // A thrown error is a bug in parley, not bad input: log it and end this connection only.
      this.#hub.log.error?.("connection.bug", { id: this.id, error: String((bug as Error)?.stack ?? bug) });
      error = new ProtocolError(ErrorCode.HeaderIncomplete, "internal error");
    }
    if (error !== undefined && !this.#closed) {
      this.#hub.log.info?.("connection.refused", { id: this.id, user: this.#name, error: error.message });
      this.#reply(error.toWire());
      // The framer only ever fails with ERROR 103, which closes; the table says so in one place.
      if (error.closes) this.#close("unparseable input", FailReason.Disconnected, "flush");
    }
  }

  onDrain(): void {
    this.#outbox.onDrain();
  }

  /** The peer half-closed: it sends nothing more, but a sender may still be owed replies. */
  onEnd(): void {
    if (this.#closed) return;
    this.#peerEnded = true;
    if (this.#receives || this.#replies.length === 0) this.#close("peer ended the stream", FailReason.Disconnected, "flush");
  }

  /** The socket is gone (Bun's close handler). */
  onClose(): void {
    this.#outbox.close();
    this.#close("connection closed", FailReason.Disconnected, "gone");
  }

  /** Endpoint: close after answering what is owed (used for a lost partner and for deadlines). */
  close(reason: string): void {
    this.#close(reason, FailReason.Disconnected, "flush");
  }

  /** Server shutdown: every SEND in flight is answered ERROR 102, then the connection ends. */
  shutdown(): void {
    this.#close("server shutting down", FailReason.Shutdown, "flush");
  }

  /** Endpoint: the receiving half of delivery. */
  forward(tx: Transaction, head: Uint8Array, body: Uint8Array): boolean {
    if (this.#closed || this.#awaiting.length >= this.#hub.limits.maxPendingForwards) return false;
    this.#outbox.write(head);
    if (body.length > 0) this.#outbox.write(body);
    if (this.#closed) return false; // the write made it a slow consumer
    this.#awaiting.push(tx);
    this.#awaitingSince.push(performance.now());
    this.#ackTimer ??= setTimeout(this.#checkAckDeadline, this.#hub.limits.ackTimeoutMs);
    return true;
  }

  readonly #onFrame = (head: ClientHead, body: Uint8Array): void => {
    if (this.#closed) return;
    switch (head.verb) {
      case "REGISTER":
        return this.#register(head.role, head.name);
      case "SEND":
        // PROTOCOL.md §3: only a registered user's sending connection may SEND.
        if (!this.#user?.registered || !this.#sends) return this.#reply(noUserRegistered);
        return this.#send(head.to, body);
      case "RECEIVED":
      case "ERROR":
        if (!this.#user?.registered) return this.#reply(noUserRegistered);
        // PROTOCOL.md §3: an answer on a connection that does not receive is ignored.
        if (this.#receives) this.#answer(head.verb === "RECEIVED" ? head.from : undefined);
        return;
    }
  };

  #register(role: Role, name: string): void {
    if (!isValidUsername(name)) return this.#reply(encodeError(ErrorCode.MalformedUsername));
    // PROTOCOL.md §3: one connection, one name.
    if (this.#name !== undefined && this.#name !== name) return this.#reply(encodeError(ErrorCode.UsernameTaken));
    const holds = role === Role.ToSend ? this.#sends : this.#receives;
    if (!holds) {
      const user = this.#hub.registry.claim(name, role, this);
      if (user === undefined) return this.#reply(encodeError(ErrorCode.UsernameTaken));
      this.#name = name;
      this.#user = user;
      if (role === Role.ToSend) this.#sends = true;
      else this.#receives = true;
      clearTimeout(this.#registerTimer);
      this.#registerTimer = undefined;
      if (user.registered) this.#hub.log.info?.("user.registered", { user: name, address: this.address });
    }
    this.#reply(encodeRegistered(role, name));
  }

  #send(to: string, body: Uint8Array): void {
    const sent = this.#hub.delivery.send(this.#name!, to, this.#forwardHead(body.length), body);
    if (!(sent instanceof Transaction)) {
      this.#hub.log.debug?.("send.failed", { from: this.#name, to, reason: sent });
      return this.#reply(unableToSend);
    }
    this.#hold(sent);
    sent.onSettled(this.#writeReplies);
  }

  /** PROTOCOL.md §4: each answer settles the oldest unanswered FORWARD; `from` is undefined for an ERROR answer. */
  #answer(from: string | undefined): void {
    const tx = this.#awaiting.shift();
    if (tx === undefined) return; // nothing outstanding: ignored
    this.#awaitingSince.shift();
    if (from === undefined) tx.fail(FailReason.RecipientError);
    else if (from === tx.from) tx.ack();
    else tx.fail(FailReason.WrongAnswer);
  }

  /** `FORWARD <this user>` with a Content-length; bodies often repeat a size, so the last one is kept. */
  #forwardHead(length: number): Uint8Array {
    if (this.#lastForwardHead?.length !== length) this.#lastForwardHead = { length, bytes: encodeForwardHead(this.#name!, length) };
    return this.#lastForwardHead.bytes;
  }

  /** The reply a settled SEND earns; `SENT <name>` is kept per recipient, since a sender talks to few. */
  #outcomeReply(tx: Transaction): Uint8Array {
    if (tx.outcome?.kind !== "sent") return unableToSend;
    let bytes = this.#sentReplies.get(tx.to);
    if (bytes === undefined) {
      if (this.#sentReplies.size >= maxCachedReplies) this.#sentReplies.clear();
      this.#sentReplies.set(tx.to, (bytes = encodeSent(tx.to)));
    }
    return bytes;
  }

  #reply(bytes: Uint8Array): void {
    if (this.#replies.length === 0) this.#outbox.write(bytes);
    else this.#hold(bytes);
  }

  #hold(reply: Reply): void {
    this.#replies.push(reply);
    this.#repliesBytes += replyBytes(reply);
    if (this.#repliesBytes + this.#outbox.queuedBytes > this.#hub.limits.maxQueuedBytes) this.#onOverflow();
  }

  /** Writes every reply at the head of the queue that is ready; stops at the first still in flight. */
  readonly #writeReplies = (): void => {
    const replies = this.#replies;
    let ready = 0;
    for (; ready < replies.length && !this.#closed; ready++) {
      const reply = replies[ready]!;
      if (reply instanceof Uint8Array) this.#outbox.write(reply);
      else if (reply.outcome !== undefined) this.#outbox.write(this.#outcomeReply(reply));
      else break;
      this.#repliesBytes -= replyBytes(reply);
    }
    // Usually every reply was ready: empty the array in place instead of splice(), which allocates.
    if (ready === replies.length) replies.length = 0;
    else if (ready > 0) replies.splice(0, ready);
    if (this.#peerEnded && replies.length === 0) this.#close("peer ended the stream", FailReason.Disconnected, "flush");
  };

  readonly #checkAckDeadline = (): void => {
    this.#ackTimer = undefined;
    if (this.#closed || this.#awaiting.length === 0) return;
    const limit = this.#hub.limits.ackTimeoutMs;
    const waited = performance.now() - this.#awaitingSince[0]!;
    // One timer per recipient, not per message: answers come in order, so only
    // the oldest FORWARD can be the first to miss its deadline.
    if (waited >= limit - 1) {
      this.#hub.log.warn?.("recipient.timeout", { id: this.id, user: this.#name, waitedMs: Math.round(waited) });
      this.#close("no answer to a FORWARD in time", FailReason.Timeout, "drop");
    } else {
      this.#ackTimer = setTimeout(this.#checkAckDeadline, limit - waited);
    }
  };

  readonly #onOverflow = (): void => {
    this.#hub.log.warn?.("connection.slow-consumer", { id: this.id, user: this.#name });
    this.#close("slow consumer", FailReason.SlowConsumer, "drop");
  };

  /**
   * The one way down. "flush": answer every reply owed (ERROR 102 for SENDs
   * still in flight), flush, then end; "drop": end now; "gone": the socket is
   * already closed.
   */
  #close(reason: string, failure: FailReason, how: "flush" | "drop" | "gone"): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#registerTimer);
    clearTimeout(this.#ackTimer);
    this.#hub.log.debug?.("connection.close", { id: this.id, user: this.#name, reason });

    const replies = this.#replies;
    this.#replies = [];
    this.#repliesBytes = 0;
    for (const reply of replies) {
      if (reply instanceof Transaction) reply.fail(failure);
      if (how === "flush") this.#outbox.write(reply instanceof Uint8Array ? reply : this.#outcomeReply(reply));
    }

    const awaiting = this.#awaiting;
    this.#awaiting = [];
    this.#awaitingSince = [];
    for (const tx of awaiting) tx.fail(failure);

    if (this.#name !== undefined) this.#hub.registry.release(this.#name, this);
    this.#hub.connections.delete(this);

    if (how === "flush") {
      this.#outbox.end();
    } else {
      this.#outbox.close();
      if (how === "drop") this.#link.end();
    }
  }
}

/** What a reply will take on the wire; for a SEND in flight, the longer of its two answers. */
function replyBytes(reply: Reply): number {
  return reply instanceof Uint8Array ? reply.length : Math.max(unableToSend.length, reply.to.length + 7);
}

