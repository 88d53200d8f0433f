// One connection attempt of a session: a user's two TCP connections (TOSEND
// and TORECV), each with its framer and write queue, connected and registered
// together and lost together. A lost link is never reused; the session makes a new one.

import { connectTcp, TlsError, type TlsClient } from "../net/tcp.ts";
import type { Transport, TransportHandler } from "../net/transport.ts";
import { ErrorCode, encodeError } from "../protocol/errors.ts";
import { Framer } from "../protocol/framer.ts";
import { defaultLimits, type FramerLimits } from "../protocol/limits.ts";
import { Role, decodeServerHead, encodeRegister, type ServerHead } from "../protocol/messages.ts";
import { registerAnswer, type ConnectError } from "./registration.ts";

/** What a presence notice says (docs/protocol.md D52-D53). */
export type PresenceHead = Extract<ServerHead, { verb: "ONLINE" | "OFFLINE" | "RESYNC" }>;

/** Opens one connection to the server and hands its events to `handler`; rejects when it cannot. */
export type Connector = (handler: TransportHandler) => Promise<Transport>;

/** The default: TCP to `host:port`, over TLS with `tls`. */
export function tcpConnector(host: string, port: number, tls?: TlsClient): Connector {
  return (handler) => connectTcp(host, port, handler, { maxQueuedBytes: defaultLimits.maxQueuedBytes, keepAliveMs: defaultLimits.keepAliveMs }, tls);
}

const headerIncomplete = encodeError(ErrorCode.HeaderIncomplete);
// docs/protocol.md D49-D53: reasons always, and presence (WHO) on the sending connection; on the
// receiving one, presence is how a client asks to be told of arrivals, so only when the user wants them.
const wanted = ["reasons", "presence"] as const;
const wantedQuietly = ["reasons"] as const;

/** One connection holding one role. */
class Channel implements TransportHandler {
  readonly role: Role;
  readonly framer: Framer<ServerHead>;
  readonly #link: Link;
  transport: Transport | undefined;
  isClosed = false;
  /** Registration: the first reply on this channel goes here. */
  waiter: ((head: ServerHead | string) => void) | undefined;
  #onClosed: (() => void)[] = [];

  constructor(role: Role, limits: FramerLimits, link: Link) {
    this.role = role;
    this.framer = new Framer(limits, decodeServerHead);
    this.#link = link;
  }

  onData(chunk: Uint8Array): void {
    this.#link.onData(this, chunk);
  }

  onEnd(): void {
    this.#link.onClose(this, "the server closed the connection");
  }

  onClose(error?: string): void {
    this.#link.onClose(this, error ?? "the server closed the connection");
  }

  onOverflow(): void {
    this.#link.lose("the server is not reading (write queue full)");
  }

  onFlushed(): void {}

  write(bytes: Uint8Array): void {
    if (!this.isClosed) this.transport?.write(bytes);
  }

  markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const resolve of this.#onClosed.splice(0)) resolve();
  }

  /** Flushes what is queued, ends the connection, and resolves once it is closed (or dropped after a grace period). */
  end(): Promise<void> {
    if (this.isClosed || this.transport === undefined) {
      this.markClosed();
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#onClosed.push(resolve);
    // The transport ends once flushed, or after its grace period; its close event resolves this.
    this.transport.end();
    return promise;
  }

  terminate(): void {
    if (!this.isClosed) this.transport?.terminate();
    this.markClosed();
  }
}

export type LinkOptions = {
  readonly connect: Connector;
  readonly user: string;
  readonly password?: Uint8Array;
  readonly connectTimeoutMs: number;
  /** Ask to be told who arrives and leaves. */
  readonly presence?: boolean;
};

export type LinkHandlers = {
  onReply(link: Link, head: ServerHead, body: Uint8Array): void;
  onForward(link: Link, head: ServerHead & { verb: "FORWARD" }, body: Uint8Array): void;
  onPresence(link: Link, head: PresenceHead): void;
  onLost(link: Link, reason: string): void;
  onProtocolError(detail: string): void;
};

/** The pair of connections of one (re)connection attempt. A lost link is never reused. */
export class Link {
  readonly sender: Channel;
  readonly receiver: Channel;
  readonly #options: LinkOptions;
  readonly #handlers: LinkHandlers;
  #isReady = false;
  #isLost = false;
  /** The extensions the server granted the sending connection (docs/protocol.md D49). */
  granted: readonly string[] = [];
  // FORWARDs that arrived before start(): the server counts the user registered
  // as soon as it holds both roles, which can be before this side has read both
  // REGISTERED replies. Dropping them would leave them unanswered until the ack
  // timeout closes the user as dead.
  #early: [ServerHead & { verb: "FORWARD" }, Uint8Array][] = [];

  constructor(options: LinkOptions, limits: FramerLimits, handlers: LinkHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.sender = new Channel(Role.ToSend, limits, this);
    this.receiver = new Channel(Role.ToRecv, limits, this);
  }

  get isLost(): boolean {
    return this.#isLost;
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
      if (error instanceof TlsError) return { kind: "refused", detail: `TLS: ${error.message}` };
      const code = (error as { code?: string }).code;
      const detail =
        code === "ECONNREFUSED" ? "connection refused" : code === "ENOTFOUND" ? "unknown host" : (error as Error).message || String(error);
      return { kind: "unreachable", detail };
    }
  }

  #register(channel: Channel): Promise<ConnectError | undefined> {
    const user = this.#options.user;
    const { promise, resolve } = Promise.withResolvers<ConnectError | undefined>();
    channel.waiter = (head) => {
      channel.waiter = undefined;
      if (typeof head === "string") return resolve({ kind: "refused", detail: head });
      const error = registerAnswer(head, channel.role, user);
      if (error === undefined && head.verb === "REGISTERED" && channel === this.sender) this.granted = head.extensions ?? [];
      resolve(error);
    };
    if (channel.isClosed) channel.waiter("the server closed the connection");
    // A server that does not know an extension ignores the field.
    else channel.write(encodeRegister(channel.role, user, this.#options.password, channel === this.sender || this.#options.presence ? wanted : wantedQuietly));
    return promise;
  }

  /** From a channel's transport. */
  onData(channel: Channel, chunk: Uint8Array): void {
    if (channel.isClosed) return;
    const error = channel.framer.push(chunk, (head, body) => this.#onFrame(channel, head, body));
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
    this.lose(reason);
  }

  /** Both connections go as one: the server ends a user's registration when either closes (docs/protocol.md §3). */
  lose(reason: string): void {
    if (this.#isLost) return;
    this.#isLost = true;
    // Flush what is queued (an ERROR 103 answer) before ending.
    void this.sender.end();
    void this.receiver.end();
    if (this.#isReady) this.#handlers.onLost(this, reason);
  }

  /** A deliberate close: flush, end both, resolve once closed. */
  async close(): Promise<void> {
    this.#isLost = true;
    await Promise.all([this.sender.end(), this.receiver.end()]);
  }
}
