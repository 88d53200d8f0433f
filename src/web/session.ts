// The web client's protocol session over one WebSocket (docs/protocol.md
// D44, D55): both roles registered on it, TORECV first, asking for reasons and
// presence; who is online, kept from WHO and the notices; SENDs matched to
// their replies in order; every FORWARD answered RECEIVED at once;
// reconnection with backoff. No DOM: the page listens.

import { defaultBackoff, type Backoff } from "../client/backoff.ts";
import { registerAnswer, type ConnectError } from "../client/registration.ts";
import { failed, replyOutcome, type Outcome } from "../client/outcome.ts";
import { ErrorCode, encodeError } from "../protocol/errors.ts";
import { defaultLimits } from "../protocol/limits.ts";
import { Role, encodeReceived, encodeRegister, encodeSend, type ServerHead } from "../protocol/messages.ts";
import { isBroadcast, isValidUsername } from "../protocol/names.ts";
import { isLoopbackHost } from "../protocol/password.ts";
import { who } from "../protocol/presence.ts";
import { Connection } from "./connection.ts";
import { OnlineList } from "./online.ts";

export type WebSessionEvent =
  | { readonly type: "connected"; readonly reconnected: boolean }
  /** `reconnectInMs` is undefined when the session will not reconnect. */
  | { readonly type: "disconnected"; readonly reason: string; readonly reconnectInMs: number | undefined }
  | { readonly type: "reconnect-failed"; readonly error: ConnectError; readonly reconnectInMs: number | undefined }
  | { readonly type: "received"; readonly from: string; readonly body: Uint8Array }
  /** Who is online now, this user included; only when the server granted presence. */
  | { readonly type: "online"; readonly names: readonly string[] };

export type WebSessionOptions = {
  /** The server's WebSocket: ws(s)://host/ws. */
  readonly url: string;
  /** The page's host name, for the password rule and for messages. */
  readonly host: string;
  /** Whether the page (and so its WebSocket) came over HTTPS. */
  readonly secure: boolean;
  readonly user: string;
  readonly password?: Uint8Array;
  readonly backoff?: Backoff;
  readonly connectTimeoutMs?: number;
  readonly onEvent: (event: WebSessionEvent) => void;
};

export type WebSessionState = "idle" | "connecting" | "ready" | "reconnecting" | "closed";

/** docs/protocol.md D55: what the web client asks for on its first REGISTER. */
export const wantedExtensions = ["reasons", "presence"] as const;

const headerIncomplete = encodeError(ErrorCode.HeaderIncomplete);

/** A name that can be echoed back in `RECEIVED <name>`: visible ASCII, no spaces. */
function isEchoable(name: string): boolean {
  return /^[\x21-\x7e]+$/.test(name);
}

export class WebSession {
  readonly user: string;
  readonly #options: WebSessionOptions;
  readonly #backoff: Backoff;
  #state: WebSessionState = "idle";
  #connection: Connection | undefined;
  /** Who is online, while the current connection has presence. */
  #online: OnlineList | undefined;
  #retryDelayMs: number;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: WebSessionOptions) {
    this.user = options.user;
    this.#options = options;
    this.#backoff = options.backoff ?? defaultBackoff;
    this.#retryDelayMs = this.#backoff.initialMs;
  }

  get state(): WebSessionState {
    return this.#state;
  }

  /** docs/protocol.md D40: a password goes in clear only to this machine; elsewhere only over HTTPS. */
  static mayCarryPassword(secure: boolean, host: string): boolean {
    return secure || isLoopbackHost(host);
  }

  /** Connects and registers both roles; undefined once registered. Never rejects. */
  async connect(): Promise<ConnectError | undefined> {
    if (this.#state !== "idle") return { kind: "refused", detail: `cannot connect a session that is ${this.#state}` };
    if (!isValidUsername(this.user)) return { kind: "malformed-name" };
    if (this.#options.password !== undefined && !WebSession.mayCarryPassword(this.#options.secure, this.#options.host)) {
      return { kind: "refused", detail: `a password is sent only over HTTPS or to this machine, not in clear to ${this.#options.host}` };
    }
    this.#state = "connecting";
    const result = await this.#open();
    if ((this.#state as WebSessionState) === "closed") {
      if ("connection" in result) result.connection.close();
      return { kind: "refused", detail: "closed while connecting" };
    }
    if (!("connection" in result)) {
      this.#state = "idle";
      return result;
    }
    this.#ready(result, false);
    return undefined;
  }

  /** Sends one message; the outcome comes with the server's reply. Failures are outcomes, never rejections. */
  send(to: string, body: Uint8Array): Promise<Outcome> {
    if (!isBroadcast(to) && !isValidUsername(to)) return Promise.resolve(failed(to, "bad-recipient"));
    // docs/protocol.md §1 "Limits": the server closes the connection on an oversize body, so never write one.
    if (body.length > defaultLimits.maxBodyBytes) return Promise.resolve(failed(to, "too-large"));
    const connection = this.#connection;
    if (this.#state !== "ready" || connection === undefined) return Promise.resolve(failed(to, "not-connected"));
    const { promise, resolve } = Promise.withResolvers<Outcome>();
    connection.request(encodeSend(to, body), {
      answer: (head) => resolve(replyOutcome(to, head)),
      lose: () => resolve(failed(to, "connection-lost")),
    });
    return promise;
  }

  /** Leaves: messages still waiting for their answer fail as connection-lost. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    const connection = this.#connection;
    this.#connection = undefined;
    this.#online = undefined;
    connection?.close();
  }

  async #open(): Promise<{ readonly connection: Connection; readonly presence: boolean } | ConnectError> {
    const connection = new Connection(this.#options.url, {
      onNotice: (from, head, body) => this.#onNotice(from, head, body),
      onClose: (from, reason) => this.#onLost(from, reason),
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const deadline = new Promise<ConnectError>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "unreachable", detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    });
    const granted: string[] = [];
    const error = await Promise.race([this.#register(connection, granted), deadline]);
    clearTimeout(timer);
    if (error === undefined) return { connection, presence: granted.includes("presence") };
    connection.close();
    return error;
  }

  async #register(connection: Connection, granted: string[]): Promise<ConnectError | undefined> {
    const closed = await connection.opened();
    if (closed !== undefined) return { kind: "unreachable", detail: `cannot reach the server at ${this.#options.host}` };
    const { user, password } = this.#options;
    // docs/protocol.md D55: TORECV first, asking for what the page shows; the grants hold for the connection.
    const answers = [
      this.#ask(connection, encodeRegister(Role.ToRecv, user, password, wantedExtensions), Role.ToRecv, granted),
      this.#ask(connection, encodeRegister(Role.ToSend, user, password), Role.ToSend, granted),
    ];
    return (await Promise.all(answers)).find((error) => error !== undefined);
  }

  #ask(connection: Connection, message: Uint8Array, role: Role, granted: string[]): Promise<ConnectError | undefined> {
    const { promise, resolve } = Promise.withResolvers<ConnectError | undefined>();
    connection.request(message, {
      answer: (head) => {
        if (head.verb === "REGISTERED") granted.push(...(head.extensions ?? []));
        resolve(registerAnswer(head, role, this.user));
      },
      lose: () => resolve({ kind: "unreachable", detail: "the server closed the connection" }),
    });
    return promise;
  }

  /** docs/protocol.md D51, D53: the list as it is now; asked again after a RESYNC. */
  #askWho(connection: Connection): void {
    connection.request(who, {
      answer: (head, body) => {
        if (head.verb !== "USERS" || connection !== this.#connection || this.#online === undefined) return;
        this.#online.replace(body);
        this.#options.onEvent({ type: "online", names: this.#online.names });
      },
      lose: () => {},
    });
  }

  #ready({ connection, presence }: { readonly connection: Connection; readonly presence: boolean }, reconnected: boolean): void {
    this.#connection = connection;
    this.#state = "ready";
    this.#retryDelayMs = this.#backoff.initialMs;
    this.#online = presence ? new OnlineList() : undefined;
    this.#options.onEvent({ type: "connected", reconnected });
    if (presence) this.#askWho(connection);
    // It may have closed while registering's last answer was handled.
    if (connection.isClosed) this.#onLost(connection, "the server closed the connection");
  }

  #onNotice(connection: Connection, head: ServerHead, body: Uint8Array): void {
    if (head.verb === "ONLINE" || head.verb === "OFFLINE" || head.verb === "RESYNC") return this.#onPresence(connection, head);
    if (head.verb !== "FORWARD") return;
    if (!isEchoable(head.from)) {
      // docs/protocol.md §2: a FORWARD that cannot be answered properly is answered ERROR 103.
      connection.write(headerIncomplete);
      return;
    }
    // The page shows it, then confirms at once: RECEIVED means received and shown (docs/protocol.md §2).
    // Also while registering: the server may count the user registered before its last answer is read.
    this.#options.onEvent({ type: "received", from: head.from, body: new Uint8Array(body) });
    connection.write(encodeReceived(head.from));
  }

  /** docs/protocol.md D52-D53: notices apply on top of the last USERS; RESYNC means ask again. */
  #onPresence(connection: Connection, head: ServerHead & { verb: "ONLINE" | "OFFLINE" | "RESYNC" }): void {
    if (connection !== this.#connection || this.#online === undefined) return;
    if (head.verb === "RESYNC") return this.#askWho(connection);
    this.#online.apply(head.name, head.verb === "ONLINE");
    this.#options.onEvent({ type: "online", names: this.#online.names });
  }

  #onLost(connection: Connection, reason: string): void {
    if (connection !== this.#connection || this.#state !== "ready") return;
    this.#connection = undefined;
    this.#online = undefined;
    this.#state = "reconnecting";
    this.#options.onEvent({ type: "disconnected", reason, reconnectInMs: this.#scheduleRetry() });
  }

  #scheduleRetry(): number {
    const delay = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(delay * 2, this.#backoff.maxMs);
    this.#retryTimer = setTimeout(() => void this.#retry(), delay);
    return delay;
  }

  async #retry(): Promise<void> {
    if (this.#state !== "reconnecting") return;
    const result = await this.#open();
    if (this.#state !== "reconnecting") {
      if ("connection" in result) result.connection.close();
      return;
    }
    if ("connection" in result) return this.#ready(result, true);
    // A name that became invalid, or a password that no longer opens it, will not get better by waiting.
    if (result.kind === "malformed-name" || result.kind === "not-authorized") {
      this.#state = "closed";
      this.#options.onEvent({ type: "reconnect-failed", error: result, reconnectInMs: undefined });
      return;
    }
    this.#options.onEvent({ type: "reconnect-failed", error: result, reconnectInMs: this.#scheduleRetry() });
  }
}
