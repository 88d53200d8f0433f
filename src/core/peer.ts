// One client connection as the core sees it, whatever carries it: what each
// message does, and the one way it closes. Its parts: the order it handles
// messages in (Intake), its name and roles (Registration), its extensions
// (Grants), what a SEND costs and answers (Sending), the FORWARDs queued to it
// and owed answers (Inbox), the replies it is owed in request order
// (ReplyQueue), its budgets (docs/protocol.md §6). A transport hands it
// decoded messages and gives it a Wire to write to.

import { ErrorCode, ProtocolError, ProtocolReason, encodeError } from "../protocol/errors.ts";
import type { ClientHead } from "../protocol/messages.ts";
import { admit, leave } from "./admission.ts";
import type { Endpoint } from "./endpoint.ts";
import { Grants } from "./grants.ts";
import type { Hub, Wire } from "./hub.ts";
import { Inbox, type Deadline } from "./inbox.ts";
import { Intake } from "./intake.ts";
import { Pacing } from "./pacing.ts";
import { UsersReply } from "./presence.ts";
import { ReadGate } from "./reading.ts";
import { CloseReason, FailReason, closeFailure } from "./reasons.ts";
import { Registration } from "./registration.ts";
import { ReplyQueue, type PendingReply } from "./replies.ts";
import { Sending } from "./sending.ts";
import { Transaction } from "./transaction.ts";

const noUserRegistered = encodeError(ErrorCode.NoUserRegistered);

let nextId = 1;

export class Peer implements Endpoint {
  readonly id = nextId++;
  readonly address: string;
  readonly #hub: Hub;
  readonly #wire: Wire;
  readonly #inbox: Inbox;
  readonly #replies: ReplyQueue;
  readonly #grants: Grants;
  readonly #registration: Registration;
  #peerEnded = false;
  #closed = false;
  readonly #reading: ReadGate;
  readonly #pacing: Pacing;
  readonly #intake: Intake;
  readonly #sending: Sending;
  /** One decoded message from the transport; `headBytes` is the size of its header block. */
  readonly onMessage: (head: ClientHead, body: Uint8Array, headBytes: number) => void;

  constructor(wire: Wire, hub: Hub) {
    const { limits } = hub;
    this.address = wire.address;
    this.#hub = hub;
    this.#wire = wire;
    this.#inbox = new Inbox(hub.inboxLimits, wire, hub.held, hub.clock, this.#onDeadline);
    this.#replies = new ReplyQueue((bytes) => wire.write(bytes), this.#onRepliesWritten, (reply) => {
      if (reply instanceof Transaction) hub.metrics.answered(reply, hub.clock.now);
    });
    this.#grants = new Grants(this.#replies, limits.maxBodyBytes);
    this.#reading = new ReadGate(wire, this.#inbox, this.#replies, limits.maxQueuedBytes);
    this.#pacing = new Pacing(limits, hub.clock, {
      onThrottled: (waitMs) => {
        this.#hub.events.emit({ type: "connection.throttled", id: this.id, user: this.name, waitMs: Math.ceil(waitMs) });
        this.#intake.throttled();
      },
      onPaidOff: () => this.#intake.paidOff(),
    });
    this.#intake = new Intake(this.#reading, this.#pacing, hub.clock, { handle: this.#handle, refuse: this.#refuse, caughtUp: this.#endIfDone });
    this.onMessage = this.#intake.onMessage;
    this.#registration = new Registration(hub, wire, this, { grants: this.#grants, intake: this.#intake, reply: this.#reply });
    this.#sending = new Sending(hub, this.#pacing, this.#grants);
    if (!admit(hub, wire, this)) {
      // Over a cap: answered and ending, and nothing else happens on it.
      this.#closed = true;
      this.#intake.stop();
      return;
    }
    this.#registration.startDeadline();
  }

  get name(): string | undefined {
    return this.#registration.name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether it takes a message now; a transport that can stop reading between messages keeps the rest as bytes till then. */
  get ready(): boolean {
    return !this.#closed && !this.#intake.holding && this.#reading.isOpen;
  }

  readonly #handle = (head: ClientHead, body: Uint8Array, headBytes: number): void => {
    const cost = headBytes + body.length + this.#hub.limits.messageCostBytes;
    if (head.verb !== "SEND") this.#pacing.spend(1, cost);
    switch (head.verb) {
      case "REGISTER":
        return this.#registration.register(head);
      case "SEND":
        // docs/protocol.md §3: only a registered user's sending connection may SEND.
        if (!this.#registration.user?.registered || !this.#registration.sends) {
          this.#pacing.spend(1, cost);
          return this.#reply(noUserRegistered);
        }
        return this.#reply(this.#sending.send(this.#registration.name!, head.to, body, cost));
      case "RECEIVED":
      case "ERROR":
        if (!this.#registration.user?.registered) return this.#reply(noUserRegistered);
        // docs/protocol.md §3: an answer on a connection that does not receive is ignored.
        if (this.#registration.receives) this.#inbox.answer(head.verb === "RECEIVED" ? head.from : undefined);
        return;
      case "WHO":
        return this.#who(cost);
    }
  };

  /** The stream could not be parsed: answer the error, then close (ERROR 103 always closes); after what was held, in order. */
  onProtocolError(error: ProtocolError): void {
    this.#intake.onProtocolError(error);
  }

  readonly #refuse = (error: ProtocolError): void => {
    this.#hub.events.emit({ type: "connection.refused", id: this.id, user: this.name, reason: error.reason, detail: error.detail });
    this.#reply(error.toWire());
    if (error.closes) this.#close(CloseReason.ProtocolError, "flush");
  };

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

  /** The transport handed bytes on: FORWARDs may have left, and there may be room for more. */
  onFlushed(): void {
    if (this.#closed) return;
    this.#inbox.onFlushed();
    this.#registration.watch?.onFlushed();
    this.#checkBacklog();
  }

  /** The transport holds more than the write cap allows. */
  onOverflow(): void {
    if (this.#closed) return;
    this.#hub.events.emit({ type: "connection.slow-consumer", id: this.id, user: this.name });
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
  forward(tx: Transaction, body: Uint8Array): FailReason | undefined {
    if (this.#closed) return FailReason.Disconnected;
    const refused = this.#inbox.offer(tx, body);
    if (refused === undefined) this.#hub.metrics.forwards++;
    // The write may have made it a slow consumer.
    return refused ?? (this.#closed ? FailReason.SlowConsumer : undefined);
  }

  /** docs/protocol.md D51: WHO is a verb only on a connection granted presence; it costs what its answer weighs. */
  #who(cost: number): void {
    if (!this.#grants.presence) return this.#refuse(new ProtocolError(ErrorCode.HeaderIncomplete, 'unknown verb "WHO"', ProtocolReason.UnknownVerb));
    if (this.#registration.name === undefined) return this.#reply(noUserRegistered);
    const { presence, limits } = this.#hub;
    this.#pacing.spend(0, Math.min(presence.listBytes, limits.maxBodyBytes) + cost);
    this.#reply(new UsersReply(presence, limits.maxBodyBytes, this.#registration.watch));
  }

  #checkBacklog(): void {
    if (!this.#closed) this.#reading.followBacklog();
  }

  readonly #onRepliesWritten = (): void => {
    this.#checkBacklog();
    this.#endIfDone();
  };

  readonly #reply = (reply: Uint8Array | PendingReply): void => {
    this.#replies.add(reply);
    if (this.#replies.bytes > 0 && this.#reading.backlog > this.#hub.limits.maxQueuedBytes) this.onOverflow();
    else this.#checkBacklog();
  };

  /** docs/protocol.md D19: a half-closed receiver goes at once; a half-closed sender once its replies are written. */
  readonly #endIfDone = (): void => {
    if (this.#closed || !this.#peerEnded || this.#intake.holding) return;
    if (this.#registration.receives || this.#replies.isEmpty) this.#close(CloseReason.PeerEnded, "flush");
  };

  readonly #onDeadline = (deadline: Deadline): void => {
    this.#hub.events.emit({ type: "recipient.timeout", id: this.id, user: this.name, deadline: deadline.kind, waitedMs: Math.round(deadline.waitedMs) });
    this.#close(deadline.kind === "ack" ? CloseReason.AckTimeout : CloseReason.WriteDeadline, "drop");
  };

  /**
   * The one way down. "flush": answer every reply owed (ERROR 102 for SENDs
   * still in flight), flush, then end; "drop": end now; "gone": the transport
   * is already closed.
   */
  #close(reason: CloseReason, how: "flush" | "drop" | "gone"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pacing.stop();
    if (this.#hub.events.wants("connection.close")) this.#hub.events.emit({ type: "connection.close", id: this.id, user: this.name, reason });
    const failure = closeFailure[reason];
    this.#replies.abandon(failure, how === "flush");
    // docs/protocol.md D18, D22: every SEND read is answered, the held ones too.
    const held = this.#intake.stop();
    if (how === "flush") for (const each of held) if (!(each instanceof ProtocolError) && each[0].verb === "SEND") this.#wire.write(this.#grants.unableToSend(failure));
    this.#inbox.failAll(failure);
    this.#registration.leave(reason);
    leave(this.#hub, this.#wire, this);
    if (how === "flush") this.#wire.end();
    else if (how === "drop") this.#wire.drop();
  }
}
