// Terminal-safe text for everything the client prints. Names and bodies come
// from other people: every control character and escape sequence in them is
// shown escaped, so no sender can drive the recipient's terminal. Colours are
// added here, and only when the caller says so. Pure.

import type { ConnectError } from "./registration.ts";
import type { FailReason, Outcome } from "./outcome.ts";
import type { Online } from "./session-events.ts";

export type Style = { readonly color: boolean };

const decoder = new TextDecoder("utf-8", { fatal: false });

const named: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" };

/**
 * C0 controls (ESC starts every ANSI sequence), DEL, C1 controls (U+009B is an
 * 8-bit CSI to some terminals), line/paragraph separators, and the bidi
 * controls that reorder what is shown ("Trojan Source").
 */
const unsafe = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text with every unsafe character written as an escape (`\x1b`, `\n`, `\u{202e}`). */
export function escapeText(text: string): string {
  return text.replace(unsafe, (c) => {
    const code = c.charCodeAt(0);
    return named[code] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`);
  });
}

/** A body as safe text. Bodies are bytes; this is the one place they become text (invalid UTF-8 shows as U+FFFD). */
export function bodyText(body: Uint8Array): string {
  return escapeText(decoder.decode(body));
}

const sgr = { reset: "\x1b[0m", bold: "\x1b[1m", dim: "\x1b[2m", red: "\x1b[31m", green: "\x1b[32m", cyan: "\x1b[36m" } as const;

function paint(style: Style, codes: string, text: string): string {
  return style.color ? `${codes}${text}${sgr.reset}` : text;
}

/** `[alice] hello` */
export function formatReceived(from: string, body: Uint8Array, style: Style): string {
  return `${paint(style, sgr.bold + sgr.cyan, `[${escapeText(from)}]`)} ${bodyText(body)}`;
}

/** A FORWARD answered ERROR 103 because its sender name cannot be answered. */
export function formatRejected(from: string, body: Uint8Array, style: Style): string {
  return paint(style, sgr.red, `refused a message from an invalid sender name "${escapeText(from)}" (${body.length} bytes)`);
}

export const reasonText: { readonly [R in FailReason]: string } = {
  "unable-to-send": "not online, or did not confirm it",
  "not-registered": "the server does not consider you registered",
  unreadable: "the server could not read it: most likely too long for this server",
  rejected: "the server refused it",
  "connection-lost": "the connection was lost before the answer",
  "not-connected": "not connected to the server",
  "too-large": "too long for this server",
  "bad-recipient": "not a valid recipient name",
};

const excerptLength = 60;

function excerpt(text: string): string {
  const chars = [...text];
  return chars.length > excerptLength ? `${chars.slice(0, excerptLength - 3).join("")}...` : text;
}

/** One line per sent message: `delivered: @bob hello` or `not delivered: @bob hello (reason)`. */
/** The server's reasons (docs/protocol.md D50), in words; one it did not know stays as it came. */
const becauseText: Readonly<Record<string, string>> = {
  offline: "not online",
  busy: "too many of your messages are waiting for them; try again soon",
  "rate-limited": "you are sending faster than the server allows",
  timeout: "did not confirm it in time",
  refused: "their client refused it",
  shutdown: "the server is shutting down",
};

/** Why a message was not delivered, in words: the server's reason when it gave one. */
export function failureText(outcome: Outcome & { kind: "failed" }): string {
  if (outcome.maxBytes !== undefined) return `${reasonText[outcome.reason]}: at most ${outcome.maxBytes} bytes`;
  if (outcome.because === undefined) return reasonText[outcome.reason];
  return Object.hasOwn(becauseText, outcome.because) ? becauseText[outcome.because]! : escapeText(outcome.because);
}

export function formatOutcome(outcome: Outcome, text: string, style: Style): string {
  const message = `@${escapeText(outcome.to)} ${escapeText(excerpt(text))}`;
  if (outcome.kind === "delivered") return `${paint(style, sgr.green, "delivered:")} ${message}`;
  return `${paint(style, sgr.red, "not delivered:")} ${message} ${paint(style, sgr.dim, `(${failureText(outcome)})`)}`;
}

/** `online (3): alice, bob, carol`, or why it cannot be known. */
export function formatOnline(online: Online | undefined): string {
  if (online === undefined) return "this server does not say who is online (or the connection is down)";
  const more = online.total > online.names.length ? `, and ${online.total - online.names.length} more` : "";
  return `online (${online.total}): ${online.names.map(escapeText).join(", ")}${more}`;
}

/** `* bob is online` / `* bob left` (docs/protocol.md D52). */
export function formatPresence(user: string, online: boolean): string {
  return `* ${escapeText(user)} ${online ? "is online" : "left"}`;
}

export const presenceMissedText = "missed some arrivals and departures; /who shows who is online";

/** Status lines from the client itself (connected, reconnecting, hints). */
export function formatNotice(text: string, style: Style): string {
  return paint(style, sgr.dim, escapeText(text));
}

export function formatError(text: string, style: Style): string {
  return paint(style, sgr.red, escapeText(text));
}

export function connectErrorText(error: ConnectError, address: string, user: string): string {
  switch (error.kind) {
    case "unreachable":
      return `cannot reach the server at ${address}: ${error.detail}`;
    case "malformed-name":
      return `"${user}" is not a valid username: use 1 to 32 letters and digits (not ALL)`;
    case "name-taken":
      return `the name "${user}" is already in use on ${address}; choose another`;
    case "not-authorized":
      return `the server at ${address} needs the password of "${user}" (--password-file FILE or PARLEY_PASSWORD), and that was not it`;
    case "refused":
      return `the server at ${address} refused the connection: ${error.detail}`;
  }
}

export function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms / 1000} s` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * One event as one line of JSON. JSON.stringify escapes C0 controls but not
 * C1, separators or bidi controls, so those are escaped too: the line stays
 * valid JSON and safe to print.
 */
export function formatJson(event: Record<string, unknown>): string {
  return JSON.stringify(event).replace(/[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Body bytes as text for JSON output (invalid UTF-8 shows as U+FFFD). */
export function decodeBody(body: Uint8Array): string {
  return decoder.decode(body);
}
