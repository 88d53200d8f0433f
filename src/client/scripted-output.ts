// What the scripted mode prints: with --json, one JSON object per event on
// stdout; otherwise messages and outcomes as text on stdout and status lines
// on stderr, so stdout holds only the conversation.

import { connectFailure, describeAddress } from "./address.ts";
import type { Address } from "./input.ts";
import {
  decodeBody,
  formatDelay,
  formatError,
  formatJson,
  formatNotice,
  formatOnline,
  formatOutcome,
  formatPresence,
  formatReceived,
  formatRejected,
  failureText,
  presenceMissedText,
  type Style,
} from "./render.ts";
import type { Outcome } from "./outcome.ts";
import type { ConnectError } from "./registration.ts";
import type { Online, SessionEvent } from "./session-events.ts";

/** Every event --json prints, in the order README and --help list them. */
export const jsonEvents = [
  "connected",
  "connect-failed",
  "disconnected",
  "reconnect-failed",
  "received",
  "delivered",
  "failed",
  "invalid",
  "rejected",
  "protocol-error",
  "who",
  "online",
  "offline",
  "presence-missed",
] as const;

type JsonEvent = { readonly event: (typeof jsonEvents)[number] } & Record<string, unknown>;

export class ScriptedOutput {
  readonly #json: boolean;
  readonly #style: Style;
  readonly #address: Address;
  readonly #user: string;

  constructor(options: { readonly json: boolean; readonly color: boolean }, address: Address, user: string) {
    this.#json = options.json;
    this.#style = { color: options.color && process.stdout.isTTY === true && !options.json };
    this.#address = address;
    this.#user = user;
  }

  /** Registered; the first connection is reported once connect() has returned, reconnections as they happen. */
  connected(reconnected: boolean): void {
    const address = this.#address;
    const user = this.#user;
    this.#status({ event: "connected", user, host: address.host, port: address.port, reconnected }, `${reconnected ? "reconnected" : "connected"} to ${describeAddress(address)} as ${user}`);
  }

  /** The first connection failed: the run ends (exit 1). */
  connectFailed(error: ConnectError): void {
    if (this.#json) this.#out(formatJson({ event: "connect-failed", error: error.kind, message: connectFailure(error, this.#address, this.#user) } satisfies JsonEvent));
  }

  event(event: SessionEvent): void {
    switch (event.type) {
      case "received":
        return this.#out(this.#json ? formatJson({ event: "received", from: event.from, text: decodeBody(event.body), bytes: event.body.length } satisfies JsonEvent) : formatReceived(event.from, event.body, this.#style));
      case "rejected":
        return this.#status({ event: "rejected", from: event.from, bytes: event.body.length }, formatRejected(event.from, event.body, { color: false }));
      case "connected":
        if (event.reconnected) this.connected(true);
        return;
      case "disconnected":
        return this.#status(
          { event: "disconnected", reason: event.reason, reconnectInMs: event.reconnectInMs ?? null },
          `connection lost: ${event.reason}${event.reconnectInMs === undefined ? "" : `; reconnecting in ${formatDelay(event.reconnectInMs)}`}`,
        );
      case "reconnect-failed": {
        const message = connectFailure(event.error, this.#address, this.#user);
        return this.#status(
          { event: "reconnect-failed", error: event.error.kind, message, reconnectInMs: event.reconnectInMs ?? null },
          `${message}${event.reconnectInMs === undefined ? "" : `; next try in ${formatDelay(event.reconnectInMs)}`}`,
        );
      }
      case "protocol-error":
        return this.#status({ event: "protocol-error", detail: event.detail }, `the server sent something unreadable: ${event.detail}`);
      case "presence":
        return this.#status({ event: event.online ? "online" : "offline", user: event.user }, formatPresence(event.user, event.online));
      case "presence-missed":
        return this.#status({ event: "presence-missed" }, presenceMissedText);
    }
  }

  /** The answer to /who. */
  online(online: Online | undefined): void {
    this.#status(online === undefined ? { event: "who", online: null } : { event: "who", total: online.total, online: online.names }, formatOnline(online));
  }

  /** The answer to input line `line`, whose message text was `text`. */
  outcome(line: number, text: string, outcome: Outcome): void {
    if (!this.#json) return this.#out(formatOutcome(outcome, text, this.#style));
    const base = { line, to: outcome.to, text };
    this.#out(formatJson((outcome.kind === "delivered" ? { event: "delivered", ...base } : { event: "failed", ...base, reason: outcome.reason, because: outcome.because, message: failureText(outcome) }) satisfies JsonEvent));
  }

  /** A line that could not be sent. */
  invalid(line: number, hint: string): void {
    this.#out(this.#json ? formatJson({ event: "invalid", line, hint } satisfies JsonEvent) : formatError(`not sent (line ${line}): ${hint}`, this.#style));
  }

  #out(line: string): void {
    process.stdout.write(line + "\n");
  }

  #status(event: JsonEvent, text: string): void {
    if (this.#json) this.#out(formatJson(event));
    else process.stderr.write(formatNotice(text, this.#style) + "\n");
  }
}
