// One connection attempt of a session: a user's two connections (TOSEND and
// TORECV, channel.ts), connected and registered together and lost together.
// A lost link is never reused; the session makes a new one.

import { closeGraceMs } from "../net/outbox.ts";
import { ErrorCode, encodeError } from "../protocol/errors.ts";
import { Framer } from "../protocol/framer.ts";
import type { FramerLimits } from "../protocol/limits.ts";
import { Role, decodeServerHead, encodeRegister, type ServerHead } from "../protocol/messages.ts";
import { Channel, type ChannelOwner } from "./channel.ts";
import { connectFailure, type Connector } from "./connector.ts";
import { LenientReader } from "./lenient-reader.ts";
import { registerAnswer, type ConnectError } from "./registration.ts";

/** What a presence notice says (docs/protocol.md D52-D53). */
export type PresenceHead = Extract<ServerHead, { verb: "ONLINE" | "OFFLINE" | "RESYNC" }>;

const headerIncomplete = encodeError(ErrorCode.HeaderIncomplete);
// docs/protocol.md D49-D53: reasons always, and presence (WHO) on the sending connection; on the
// receiving one, presence is how a client asks to be told of arrivals, so only when the user wants them.
const wanted = ["reasons", "presence"] as const;
const wantedQuietly = ["reasons"] as const;

export type LinkOptions = {
  readonly connect: Connector;
  readonly user: string;
  readonly password?: Uint8Array;
  readonly connectTimeoutMs: number;
  /** Ask to be told who arrives and leaves. */
  readonly presence?: boolean;
  /**
   * docs/protocol.md D68: for servers of the original design that read one
   * message per recv(): TOSEND registered before TORECV connects, no
   * extensions asked, one message per write, the server's stream read leniently.
   */
  readonly compat?: boolean;
};

export type LinkHandlers = {
  onReply(link: Link, head: ServerHead, body: Uint8Array): void;
  onForward(link: Link, head: ServerHead & { verb: "FORWARD" }, body: Uint8Array): void;
  onPresence(link: Link, head: PresenceHead): void;
  onLost(link: Link, reason: string): void;
  onProtocolError(detail: string): void;
};

/** The pair of connections of one (re)connection attempt. A lost link is never reused. */
export class Link implements ChannelOwner {
  readonly sender: Channel;
  readonly receiver: Channel;
  readonly #options: LinkOptions;
  readonly #handlers: LinkHandlers;
  #isReady = false;
  #isLost = false;
  /** Set while the receiving connection is gone and the sending one's last replies are still read. */
  #draining: ReturnType<typeof setTimeout> | undefined;
  /** The extensions the server granted the sending connection (docs/protocol.md D49). */
  granted: readonly string[] = [];
  /** The server's body limit, when it said (docs/protocol.md D49). */
  maxBodyBytes: number | undefined;
  // FORWARDs that arrived before start(): the server counts the user registered
  // as soon as it holds both roles, which can be before this side has read both
  // REGISTERED replies. Dropping them would leave them unanswered until the ack
  // timeout closes the user as dead.
  #early: [ServerHead & { verb: "FORWARD" }, Uint8Array][] = [];

  constructor(options: LinkOptions, limits: FramerLimits, handlers: LinkHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    const compat = options.compat === true;
    const reader = () => (compat ? new LenientReader(limits) : new Framer(limits, decodeServerHead));
    this.sender = new Channel(Role.ToSend, reader(), this, compat);
    this.receiver = new Channel(Role.ToRecv, reader(), this, compat);
  }

  get isLost(): boolean {
    return this.#isLost;
  }

  /** Whether a message written now can still be answered. */
  get isOpen(): boolean {
    return !this.#isLost && this.#draining === undefined;
  }

  /** Connects both roles and registers them. Never rejects. */
  async open(): Promise<ConnectError | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<ConnectError>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "unreachable", detail: `no answer within ${this.#options.connectTimeoutMs} ms` }), this.#options.connectTimeoutMs);
    });
    const error = await Promise.race([this.#connectAndRegister(), deadline]);
    clearTimeout(timer);
    if (error !== undefined) {
      this.#isLost = true;
      this.sender.terminate();
      this.receiver.terminate();
      return error;
    }
    return undefined;
  }

  /** The session has taken this link: from now on frames go to the handlers, starting with any early FORWARDs. */
  start(): void {
    this.#isReady = true;
    for (const [head, body] of this.#early.splice(0)) {
      if (this.#isLost) return;
      this.#handlers.onForward(this, head, body);
    }
  }

  async #connectAndRegister(): Promise<ConnectError | undefined> {
    if (this.#options.compat) {
      // docs/protocol.md D68: some servers want TOSEND registered before a TORECV arrives.
      for (const channel of [this.sender, this.receiver]) {
        const error = (await this.#connect(channel)) ?? (await this.#register(channel));
        if (error !== undefined) return error;
      }
      return undefined;
    }
    const connected = await Promise.all([this.#connect(this.sender), this.#connect(this.receiver)]);
    const unreachable = connected.find((error) => error !== undefined);
    if (unreachable !== undefined) return unreachable;
    const registered = await Promise.all([this.#register(this.sender), this.#register(this.receiver)]);
    return registered.find((error) => error !== undefined);
  }

  async #connect(channel: Channel): Promise<ConnectError | undefined> {
    try {
      const transport = await this.#options.connect(channel);
      // The deadline may have passed while connecting: the channel is already
      // marked closed, so drop this late connection directly.
      if (this.#isLost) transport.terminate();
      else channel.transport = transport;
      return undefined;
    } catch (error) {
      return connectFailure(error);
    }
  }

  #register(channel: Channel): Promise<ConnectError | undefined> {
    const { user, password, compat, presence } = this.#options;
    const { promise, resolve } = Promise.withResolvers<ConnectError | undefined>();
    channel.waiter = (head) => {
      channel.waiter = undefined;
      if (typeof head === "string") return resolve({ kind: "refused", detail: head });
      const error = registerAnswer(head, channel.role, user);
      if (error === undefined && head.verb === "REGISTERED" && channel === this.sender) {
        this.granted = head.extensions ?? [];
        this.maxBodyBytes = head.maxBodyBytes;
      }
      resolve(error);
    };
    if (channel.isClosed) channel.waiter("the server closed the connection");
    // A server that does not know an extension ignores the field; one of the original design may not (D68).
    else channel.write(encodeRegister(channel.role, user, password, compat ? undefined : channel === this.sender || presence ? wanted : wantedQuietly));
    return promise;
  }

  /** From a channel's transport. */
  onData(channel: Channel, chunk: Uint8Array): void {
    if (channel.isClosed) return;
    const error = channel.reader.push(chunk, (head, body) => this.#onFrame(channel, head, body));
    if (error === undefined || this.#isLost) return;
    this.#handlers.onProtocolError(error.message);
    // docs/protocol.md §2: a FORWARD we cannot parse is answered ERROR 103; the stream
    // cannot be resynchronised after it, so the connection goes too.
    if (channel === this.receiver) channel.write(headerIncomplete);
    this.lose(`unparseable data from the server (${error.message})`);
  }

  #onFrame(channel: Channel, head: ServerHead, body: Uint8Array): void {
    if (this.#isLost) return;
    if (channel.waiter !== undefined) return channel.waiter(head);
    if (!this.#isReady) {
      // A copy: the body may be a view of the socket's chunk (Buffer#slice would be a view too).
      if (channel === this.receiver && head.verb === "FORWARD") this.#early.push([head, new Uint8Array(body)]);
      return;
    }
    if (channel === this.sender) return this.#handlers.onReply(this, head, body);
    if (head.verb === "FORWARD") return this.#handlers.onForward(this, head, body);
    if (head.verb === "ONLINE" || head.verb === "OFFLINE" || head.verb === "RESYNC") return this.#handlers.onPresence(this, head);
    // Anything else on the receiving connection (a repeated REGISTERED) needs no answer.
  }

  /** From a channel's transport: it ended or closed. */
  onClose(channel: Channel, reason: string): void {
    if (channel.isClosed) return;
    channel.markClosed();
    channel.waiter?.(reason);
    // docs/protocol.md D18: the server answers the SENDs in flight before it closes the
    // sending connection, and the receiving one may close first: read those answers
    // until the sending connection closes too, or for a grace period.
    if (channel === this.receiver && this.#isReady && !this.#isLost && !this.sender.isClosed) {
      this.#draining ??= setTimeout(() => this.lose(reason), closeGraceMs);
      return;
    }
    this.lose(reason);
  }

  /** Both connections go as one: the server ends a user's registration when either closes (docs/protocol.md §3). */
  lose(reason: string): void {
    if (this.#isLost) return;
    this.#isLost = true;
    clearTimeout(this.#draining);
    // Flush what is queued (an ERROR 103 answer) before ending.
    void this.sender.end();
    void this.receiver.end();
    if (this.#isReady) this.#handlers.onLost(this, reason);
  }

  /** A deliberate close: flush, end both, resolve once closed. */
  async close(): Promise<void> {
    this.#isLost = true;
    clearTimeout(this.#draining);
    await Promise.all([this.sender.end(), this.receiver.end()]);
  }
}
