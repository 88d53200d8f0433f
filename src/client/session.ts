// The protocol client, without a terminal: connect and register (link.ts),
// SENDs matched to their replies in order, FORWARDs answered, and
// reconnection with backoff. Every failure is a value.

import { ErrorCode, encodeError } from "../protocol/errors.ts";
import type { FramerLimits } from "../protocol/limits.ts";
import { encodeReceived, encodeSend } from "../protocol/messages.ts";
import { isBroadcast, isValidUsername } from "../protocol/names.ts";
import { isLoopbackHost } from "../protocol/password.ts";
import { decodeUsers, who } from "../protocol/presence.ts";
import { defaultBackoff } from "./backoff.ts";
import { tcpConnector } from "./connector.ts";
import { Link, type LinkHandlers, type LinkOptions } from "./link.ts";
import { failed, replyOutcome, tooLarge, type Outcome } from "./outcome.ts";
import type { ConnectError } from "./registration.ts";
import { Requests, type Request } from "./requests.ts";
import { Retry } from "./retry.ts";
import type { Online, SessionEvent } from "./session-events.ts";
import { sessionDefaults, type SessionOptions } from "./session-options.ts";

export type SessionState = "idle" | "connecting" | "ready" | "reconnecting" | "closed";

const headerIncomplete = encodeError(ErrorCode.HeaderIncomplete);

/** A name that can be echoed back in `RECEIVED <name>`: visible ASCII, no spaces. */
function isEchoable(name: string): boolean {
  return /^[\x21-\x7e]+$/.test(name);
}

export class Session {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly #linkOptions: LinkOptions;
  // docs/protocol.md §7: passwords only over TLS or to loopback.
  readonly #secure: boolean;
  /** Undefined: a lost connection stays lost. */
  readonly #retry: Retry | undefined;
  readonly #maxBodyBytes: number;
  readonly #limits: FramerLimits;
  readonly #onEvent: (event: SessionEvent) => void;
  #state: SessionState = "idle";
  #link: Link | undefined;
  // SENDs and WHOs not yet answered, oldest first (docs/protocol.md D14).
  readonly #requests: Requests;

  constructor(options: SessionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.user = options.user;
    const { user, password, presence, compat } = options;
    const connect = options.connect ?? tcpConnector(options.host, options.port, options.tls);
    this.#linkOptions = { connect, user, password, connectTimeoutMs: options.connectTimeoutMs ?? sessionDefaults.connectTimeoutMs, presence, compat };
    this.#secure = options.connect === undefined ? options.tls !== undefined : options.secure === true;
    const backoff = options.reconnect ?? defaultBackoff;
    this.#retry = backoff ? new Retry(backoff) : undefined;
    this.#maxBodyBytes = options.maxBodyBytes ?? sessionDefaults.maxBodyBytes;
    this.#limits = options.limits ?? sessionDefaults.limits;
    this.#requests = new Requests(compat === true);
    this.#onEvent = options.onEvent ?? (() => {});
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Messages (and WHOs) not yet answered: written, or in compat mode waiting their turn. */
  get inFlight(): number {
    return this.#requests.size;
  }

  /** Connects and registers both roles. Resolves undefined once registered; never rejects. */
  async connect(): Promise<ConnectError | undefined> {
    if (this.#state !== "idle") return { kind: "refused", detail: `cannot connect a session that is ${this.#state}` };
    if (!isValidUsername(this.user)) return { kind: "malformed-name" };
    // docs/protocol.md §7: a password never leaves in clear for another machine, not even one byte.
    if (this.#linkOptions.password !== undefined && !this.#secure && !isLoopbackHost(this.host)) {
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
    const link = this.#link;
    // docs/protocol.md D69: the server closes the connection on an oversize body, so never write one.
    const maxBodyBytes = link?.maxBodyBytes ?? this.#maxBodyBytes;
    if (body.length > maxBodyBytes) return Promise.resolve(tooLarge(to, maxBodyBytes));
    if (this.#state !== "ready" || link === undefined || !link.isOpen) return Promise.resolve(failed(to, "not-connected"));
    const { promise, resolve } = Promise.withResolvers<Outcome>();
    this.#request(link, { bytes: encodeSend(to, body), answer: (reply) => resolve(reply === undefined ? failed(to, "connection-lost") : replyOutcome(to, reply.head)) });
    return promise;
  }

  /** Who is online; undefined when not connected or the server does not know presence. */
  who(): Promise<Online | undefined> {
    const link = this.#link;
    // docs/protocol.md D51: WHO to a server that did not grant presence is an unknown verb, and closes.
    if (this.#state !== "ready" || link === undefined || !link.isOpen || !link.granted.includes("presence")) return Promise.resolve(undefined);
    const { promise, resolve } = Promise.withResolvers<Online | undefined>();
    this.#request(link, { bytes: who, answer: (reply) => resolve(reply?.head.verb === "USERS" ? { total: reply.head.total, names: decodeUsers(reply.body) } : undefined) });
    return promise;
  }

  #request(link: Link, request: Request): void {
    const now = this.#requests.add(request);
    if (now !== undefined) link.sender.write(now.bytes);
  }

  /** Ends both connections after flushing; messages still in flight fail as connection-lost. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#retry?.cancel();
    const link = this.#link;
    this.#link = undefined;
    this.#requests.failAll();
    if (link !== undefined) await link.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #open(): Promise<Link | ConnectError> {
    const link = new Link(this.#linkOptions, this.#limits, this.#handlers);
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
    this.#retry?.reset();
    this.#emit({ type: "connected", reconnected });
    link.start();
    // The link may have dropped while the event was handled.
    if (link.isLost && this.#link === link) this.#handlers.onLost(link, "the server closed the connection");
  }

  readonly #handlers: LinkHandlers = {
    onReply: (link, head, body) => {
      if (link !== this.#link) return;
      if (head.verb !== "SENT" && head.verb !== "ERROR" && head.verb !== "USERS") return; // a repeated REGISTERED
      const next = this.#requests.answer({ head, body });
      if (next !== undefined && link.isOpen) link.sender.write(next.bytes);
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
      this.#requests.failAll();
      if (this.#retry === undefined) {
        this.#state = "closed";
        this.#emit({ type: "disconnected", reason, reconnectInMs: undefined });
        return;
      }
      this.#state = "reconnecting";
      this.#emit({ type: "disconnected", reason, reconnectInMs: this.#retry.schedule(() => void this.#reconnect()) });
    },
    onPresence: (link, head) => {
      if (link !== this.#link) return;
      this.#emit(head.verb === "RESYNC" ? { type: "presence-missed" } : { type: "presence", user: head.name, online: head.verb === "ONLINE" });
    },
    onProtocolError: (detail) => this.#emit({ type: "protocol-error", detail }),
  };

  async #reconnect(): Promise<void> {
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
    this.#emit({ type: "reconnect-failed", error: result, reconnectInMs: this.#retry!.schedule(() => void this.#reconnect()) });
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
