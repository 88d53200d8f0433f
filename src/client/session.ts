// The protocol client, without a terminal: connect and register (link.ts),
// SENDs matched to their replies in order, FORWARDs answered, and
// reconnection with backoff. Every failure is a value.

import { ErrorCode, encodeError } from "../protocol/errors.ts";
import { defaultLimits, type FramerLimits } from "../protocol/limits.ts";
import { encodeReceived, encodeSend } from "../protocol/messages.ts";
import { isBroadcast, isValidUsername } from "../protocol/names.ts";
import { isLoopbackHost } from "../protocol/password.ts";
import { decodeUsers, who } from "../protocol/presence.ts";
import type { TlsClient } from "../net/tcp.ts";
import { defaultBackoff, type Backoff } from "./backoff.ts";
import { Link, tcpConnector, type Connector, type LinkHandlers } from "./link.ts";
import { failed, replyOutcome, type FailReason, type Outcome } from "./outcome.ts";
import type { ConnectError } from "./registration.ts";

export type SessionEvent =
  | { readonly type: "connected"; readonly reconnected: boolean }
  /** `reconnectInMs` is undefined when the session will not reconnect. */
  | { readonly type: "disconnected"; readonly reason: string; readonly reconnectInMs: number | undefined }
  | { readonly type: "reconnect-failed"; readonly error: ConnectError; readonly reconnectInMs: number | undefined }
  /** `body` is the session's own copy. */
  | { readonly type: "received"; readonly from: string; readonly body: Uint8Array }
  /** A FORWARD whose sender cannot be echoed in a RECEIVED; answered ERROR 103. */
  | { readonly type: "rejected"; readonly from: string; readonly body: Uint8Array }
  /** The server's stream could not be parsed; the connection is dropped. */
  | { readonly type: "protocol-error"; readonly detail: string }
  /** With `presence`: someone else arrived or left (docs/protocol.md D52). */
  | { readonly type: "presence"; readonly user: string; readonly online: boolean }
  /** With `presence`: arrivals and departures were missed; ask who() again (D53). */
  | { readonly type: "presence-missed" };

/** Who is online: `total` of them, `names` as many as the server could list (docs/protocol.md D51). */
export type Online = { readonly total: number; readonly names: readonly string[] };

export type SessionOptions = {
  /** Where the server is; with the default connector, where TCP connects. */
  readonly host: string;
  readonly port: number;
  /** How each connection is opened. Default: TCP to host:port, over TLS with `tls`. */
  readonly connect?: Connector;
  /** With a `connect` of its own: whether it protects the bytes on the way (TLS, wss:). */
  readonly secure?: boolean;
  readonly tls?: TlsClient;
  /** Sent with REGISTER, as these bytes (docs/protocol.md §7); only over TLS or to this machine. */
  readonly password?: Uint8Array;
  readonly user: string;
  /** Reconnect after losing an established connection; false to stay down. Default 0.5 s doubling to 10 s. */
  readonly reconnect?: Backoff | false;
  /** Connecting and registering both roles must finish within this. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Bodies over this are refused before they are written (the server closes on them). Default: the server's default. */
  readonly maxBodyBytes?: number;
  /** What the client accepts from the server. */
  readonly limits?: FramerLimits;
  /** Ask to be told who arrives and leaves (presence events). */
  readonly presence?: boolean;
  readonly onEvent?: (event: SessionEvent) => void;
};

export type SessionState = "idle" | "connecting" | "ready" | "reconnecting" | "closed";

// A server may be configured for bodies larger than its default; reading them costs the client nothing.
const clientLimits: FramerLimits = { maxHeaderBytes: defaultLimits.maxHeaderBytes, maxBodyBytes: 16 * 1024 * 1024 };
const headerIncomplete = encodeError(ErrorCode.HeaderIncomplete);

// A SEND owed its outcome, or a WHO its list: replies come in request order (docs/protocol.md D14).
type Pending = { readonly to: string; readonly resolve: (outcome: Outcome) => void } | { readonly to: undefined; readonly who: (online: Online | undefined) => void };

/** A name that can be echoed back in `RECEIVED <name>`: visible ASCII, no spaces. */
function isEchoable(name: string): boolean {
  return /^[\x21-\x7e]+$/.test(name);
}


export class Session {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly #connect: Connector;
  // docs/protocol.md §7: passwords only over TLS or to loopback.
  readonly #secure: boolean;
  readonly #password: Uint8Array | undefined;
  readonly #backoff: Backoff | false;
  readonly #connectTimeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #limits: FramerLimits;
  readonly #presence: boolean;
  readonly #onEvent: (event: SessionEvent) => void;
  #state: SessionState = "idle";
  #link: Link | undefined;
  // SENDs written and not yet answered, oldest first (docs/protocol.md §4: replies come in SEND order).
  #pending: Pending[] = [];
  #retryDelayMs: number;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SessionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.user = options.user;
    this.#connect = options.connect ?? tcpConnector(options.host, options.port, options.tls);
    this.#secure = options.connect === undefined ? options.tls !== undefined : options.secure === true;
    this.#password = options.password;
    this.#backoff = options.reconnect ?? defaultBackoff;
    this.#retryDelayMs = this.#backoff ? this.#backoff.initialMs : 0;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#maxBodyBytes = options.maxBodyBytes ?? defaultLimits.maxBodyBytes;
    this.#limits = options.limits ?? clientLimits;
    this.#presence = options.presence === true;
    this.#onEvent = options.onEvent ?? (() => {});
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Messages written and still waiting for their reply. */
  get inFlight(): number {
    return this.#pending.length;
  }

  /** Connects and registers both roles. Resolves undefined once registered; never rejects. */
  async connect(): Promise<ConnectError | undefined> {
    if (this.#state !== "idle") return { kind: "refused", detail: `cannot connect a session that is ${this.#state}` };
    if (!isValidUsername(this.user)) return { kind: "malformed-name" };
    // docs/protocol.md §7: a password never leaves in clear for another machine, not even one byte.
    if (this.#password !== undefined && !this.#secure && !isLoopbackHost(this.host)) {
      return { kind: "refused", detail: `a password is sent only over TLS (--tls) or to this machine, not in clear to ${this.host}` };
    }
    this.#state = "connecting";
    const result = await this.#open();
    // close() may have run while this was waiting.
    if ((this.#state as SessionState) === "closed") {
      if (result instanceof Link) await result.close();
      return { kind: "refused", detail: "closed while connecting" };
    }
    if (!(result instanceof Link)) {
      this.#state = "idle";
      return result;
    }
    this.#ready(result, false);
    return undefined;
  }

  /** Sends one message. The outcome arrives with the server's reply; failures are outcomes, never rejections. */
  send(to: string, body: Uint8Array): Promise<Outcome> {
    if (!isBroadcast(to) && !isValidUsername(to)) return Promise.resolve(failed(to, "bad-recipient"));
    // docs/protocol.md §1 "Limits": the server closes the connection on an oversize body, so never write one.
    if (body.length > this.#maxBodyBytes) return Promise.resolve(failed(to, "too-large"));
    const link = this.#link;
    if (this.#state !== "ready" || link === undefined) return Promise.resolve(failed(to, "not-connected"));
    const { promise, resolve } = Promise.withResolvers<Outcome>();
    this.#pending.push({ to, resolve });
    link.sender.write(encodeSend(to, body));
    return promise;
  }

  /** Who is online; undefined when not connected or the server does not know presence. */
  who(): Promise<Online | undefined> {
    const link = this.#link;
    // docs/protocol.md D51: WHO to a server that did not grant presence is an unknown verb, and closes.
    if (this.#state !== "ready" || link === undefined || !link.granted.includes("presence")) return Promise.resolve(undefined);
    const { promise, resolve } = Promise.withResolvers<Online | undefined>();
    this.#pending.push({ to: undefined, who: resolve });
    link.sender.write(who);
    return promise;
  }

  /** Ends both connections after flushing; messages still in flight fail as connection-lost. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const link = this.#link;
    this.#link = undefined;
    this.#failPending("connection-lost");
    if (link !== undefined) await link.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #open(): Promise<Link | ConnectError> {
    const options = { connect: this.#connect, user: this.user, password: this.#password, connectTimeoutMs: this.#connectTimeoutMs, presence: this.#presence };
    const link = new Link(options, this.#limits, this.#handlers);
    try {
      const error = await link.open();
      return error ?? link;
    } catch (bug) {
      // link.open() catches what it expects; anything else must still not become an unhandled rejection.
      void link.close();
      return { kind: "refused", detail: String(bug) };
    }
  }

  #ready(link: Link, reconnected: boolean): void {
    this.#link = link;
    this.#state = "ready";
    if (this.#backoff) this.#retryDelayMs = this.#backoff.initialMs;
    this.#emit({ type: "connected", reconnected });
    link.start();
    // The link may have dropped while the event was handled.
    if (link.isLost && this.#link === link) this.#handlers.onLost(link, "the server closed the connection");
  }

  readonly #handlers: LinkHandlers = {
    onReply: (link, head, body) => {
      if (link !== this.#link) return;
      if (head.verb !== "SENT" && head.verb !== "ERROR" && head.verb !== "USERS") return; // a repeated REGISTERED
      const pending = this.#pending.shift();
      if (pending === undefined) return; // docs/protocol.md §4: a reply with nothing outstanding is ignored
      if (pending.to === undefined) return pending.who(head.verb === "USERS" ? { total: head.total, names: decodeUsers(body) } : undefined);
      pending.resolve(replyOutcome(pending.to, head));
    },
    onForward: (link, head, body) => {
      if (link !== this.#link) return;
      // The framer's body may be a view of the socket's chunk, and Buffer#slice is a view too.
      const copy = new Uint8Array(body);
      if (!isEchoable(head.from)) {
        // docs/protocol.md §2: a FORWARD the client cannot answer properly is answered ERROR 103.
        this.#emit({ type: "rejected", from: head.from, body: copy });
        link.receiver.write(headerIncomplete);
        return;
      }
      // docs/protocol.md §2: RECEIVED means received and shown, so answer after the event is handled.
      this.#emit({ type: "received", from: head.from, body: copy });
      link.receiver.write(encodeReceived(head.from));
    },
    onLost: (link, reason) => {
      if (link !== this.#link || this.#state !== "ready") return;
      this.#link = undefined;
      this.#failPending("connection-lost");
      if (!this.#backoff) {
        this.#state = "closed";
        this.#emit({ type: "disconnected", reason, reconnectInMs: undefined });
        return;
      }
      this.#state = "reconnecting";
      this.#emit({ type: "disconnected", reason, reconnectInMs: this.#scheduleRetry() });
    },
    onPresence: (link, head) => {
      if (link !== this.#link) return;
      this.#emit(head.verb === "RESYNC" ? { type: "presence-missed" } : { type: "presence", user: head.name, online: head.verb === "ONLINE" });
    },
    onProtocolError: (detail) => this.#emit({ type: "protocol-error", detail }),
  };

  #failPending(reason: FailReason): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const each of pending) {
      if (each.to === undefined) each.who(undefined);
      else each.resolve(failed(each.to, reason));
    }
  }

  /** Schedules the next attempt; returns its delay. */
  #scheduleRetry(): number {
    const backoff = this.#backoff as Backoff;
    const delay = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(delay * 2, backoff.maxMs);
    this.#retryTimer = setTimeout(() => void this.#retry(), delay);
    return delay;
  }

  async #retry(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#state !== "reconnecting") return;
    const result = await this.#open();
    if (this.#state !== "reconnecting") {
      if (result instanceof Link) await result.close();
      return;
    }
    if (result instanceof Link) return this.#ready(result, true);
    if (result.kind === "malformed-name") {
      this.#state = "closed";
      this.#emit({ type: "reconnect-failed", error: result, reconnectInMs: undefined });
      return;
    }
    this.#emit({ type: "reconnect-failed", error: result, reconnectInMs: this.#scheduleRetry() });
  }

  #emit(event: SessionEvent): void {
    try {
      this.#onEvent(event);
    } catch (bug) {
      // A listener's bug must not leave a frame half-handled; surface it outside the socket handler.
      queueMicrotask(() => {
        throw bug;
      });
    }
  }
}
