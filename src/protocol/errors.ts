// The protocol's error codes (docs/protocol.md §2), their wire text and whether the
// server closes the connection after sending one. The only place these exist.

import { ascii } from "./ascii.ts";

export const ErrorCode = {
  MalformedUsername: 100,
  NoUserRegistered: 101,
  UnableToSend: 102,
  HeaderIncomplete: 103,
  UsernameTaken: 104,
  NotAuthorized: 105,
  ServerBusy: 106,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorText: { readonly [C in ErrorCode]: string } = {
  100: "Malformed username",
  101: "No user registered",
  102: "Unable to send",
  103: "Header incomplete",
  104: "Username taken",
  105: "Not authorized",
  106: "Server busy",
};

/** docs/protocol.md §2: only ERROR 103 ends the connection; the stream cannot be resynchronised. */
export const errorCloses: { readonly [C in ErrorCode]: boolean } = {
  100: false,
  101: false,
  102: false,
  103: true,
  104: false,
  105: false,
  // docs/protocol.md §6: closed after it only when a connection cap was the reason; the server closes those itself.
  106: false,
};

const errorWire = Object.fromEntries(
  Object.entries(errorText).map(([code, text]) => [code, ascii(`ERROR ${code} ${text}\n\n`)]),
) as { readonly [C in ErrorCode]: Uint8Array };

/** The complete wire message for an error code. Shared bytes: never mutate. */
export function encodeError(code: ErrorCode): Uint8Array {
  return errorWire[code];
}

const withReasons = new Map<string, Uint8Array>();

/** docs/protocol.md D50: `ERROR <code> <text>` with a `Reason` field, for a client that asked for reasons. Shared bytes. */
export function encodeErrorWithReason(code: ErrorCode, reason: string): Uint8Array {
  const key = `${code} ${reason}`;
  let bytes = withReasons.get(key);
  if (bytes === undefined) withReasons.set(key, (bytes = ascii(`ERROR ${code} ${errorText[code]}\nReason: ${reason}\n\n`)));
  return bytes;
}

export function isErrorCode(code: number): code is ErrorCode {
  return Object.hasOwn(errorText, code);
}

/**
 * Why a stream could not be read, as a stable machine-readable word beside the
 * wire code (after ws's `err.code`): logs and metrics count these, tests match them.
 */
export const ProtocolReason = {
  HeaderTooLong: "header-too-long",
  BodyTooLong: "body-too-long",
  BadContentLength: "bad-content-length",
  MissingContentLength: "missing-content-length",
  ConflictingContentLength: "conflicting-content-length",
  MissingRecipient: "missing-recipient",
  MissingSender: "missing-sender",
  UnknownVerb: "unknown-verb",
  UnknownRole: "unknown-role",
  BadHeaderLine: "bad-header-line",
  EmptyFirstLine: "empty-first-line",
  TlsOnPlainPort: "tls-on-plain-port",
  NotOneMessage: "not-one-message",
  Internal: "internal-error",
} as const;
export type ProtocolReason = (typeof ProtocolReason)[keyof typeof ProtocolReason];

/** A protocol-level failure that has a wire answer. `detail` is for logs, never for the wire. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ErrorCode;
  readonly reason: ProtocolReason;
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, reason: ProtocolReason) {
    super(`${code} ${errorText[code]}: ${detail}`);
    this.code = code;
    this.reason = reason;
    this.detail = detail;
  }

  get closes(): boolean {
    return errorCloses[this.code];
  }

  toWire(): Uint8Array {
    return encodeError(this.code);
  }
}

/** A short, printable quote of offending bytes for logs (nats-server protoSnippet). */
export function snippet(bytes: Uint8Array, max = 32): string {
  let out = "";
  for (let i = 0; i < bytes.length && i < max; i++) {
    const b = bytes[i]!;
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return `"${out}${bytes.length > max ? "..." : ""}"`;
}
