// The messages of docs/protocol.md §2 as tagged unions, the header-block decoder
// for each direction, and one pure encoder per message. Bytes in, bytes out:
// no sockets here.

import { ascii, isLineSpace, latin1 } from "./ascii.ts";
import { ErrorCode, ProtocolError, ProtocolReason } from "./errors.ts";
import { decodeHotClientHead } from "./hot-path.ts";
import { maxInteger, parseInteger } from "./integer.ts";

export const Role = { ToSend: "TOSEND", ToRecv: "TORECV" } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Every decoded head says how many body bytes follow it (0 without Content-length). */
type Sized = { readonly length: number };

/** What a client sends; the server decodes these. */
export type ClientHead = Sized &
  (
    | { readonly verb: "REGISTER"; readonly role: Role; readonly name: string; readonly password?: Uint8Array; readonly extensions?: readonly string[] }
    | { readonly verb: "SEND"; readonly to: string }
    | { readonly verb: "RECEIVED"; readonly from: string }
    | { readonly verb: "ERROR"; readonly code: number; readonly text: string }
    | { readonly verb: "WHO" }
  );

/** What the server sends; the client decodes these. */
export type ServerHead = Sized &
  (
    /** `maxBodyBytes`: the server's body limit, told to a client that asked for extensions (docs/protocol.md D49). */
    | { readonly verb: "REGISTERED"; readonly role: Role; readonly name: string; readonly extensions?: readonly string[]; readonly maxBodyBytes?: number }
    | { readonly verb: "SENT"; readonly to: string }
    | { readonly verb: "FORWARD"; readonly from: string }
    | { readonly verb: "ERROR"; readonly code: number; readonly text: string; readonly reason?: string }
    | { readonly verb: "USERS"; readonly total: number }
    | { readonly verb: "ONLINE" | "OFFLINE"; readonly name: string }
    | { readonly verb: "RESYNC" }
  );

/** Decodes the header block `bytes[start, end)`; offsets, not a view, because a view of a fresh socket chunk costs more than the decoding. */
export type HeadDecoder<H extends Sized> = (bytes: Uint8Array, start?: number, end?: number) => H | ProtocolError;


/** `argsAt` is the offset of `args` in the decoded bytes, for numbers parsed straight from them. */
/**
 * `password` is the Password field's raw bytes, copied (docs/protocol.md §7:
 * never decoded); `extensions` the Extensions field's names, lower-cased.
 */
type Fields = {
  verb: string;
  args: string;
  argsAt: number;
  length: number | undefined;
  password: Uint8Array | undefined;
  extensions: string[] | undefined;
  /** An ERROR's Reason field (docs/protocol.md D50). */
  reason: string | undefined;
  /** A REGISTERED's Max-Body-Bytes field (docs/protocol.md D49); undefined when absent or not a number. */
  maxBodyBytes: number | undefined;
};

function malformed(reason: ProtocolReason, detail: string): ProtocolError {
  return new ProtocolError(ErrorCode.HeaderIncomplete, detail, reason);
}

/** docs/protocol.md §1: trailing spaces, tabs and the \r of \r\n are not part of a line. */
function trimLineEnd(line: string): string {
  let end = line.length;
  while (end > 0) {
    if (!isLineSpace(line.charCodeAt(end - 1))) break;
    end--;
  }
  return end === line.length ? line : line.slice(0, end);
}

function isFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3a) return false;
  }
  return true;
}

/** Splits a complete header block (ending in its empty line) into verb, arguments and Content-length. */
function parseBlock(bytes: Uint8Array, start = 0, end = bytes.length): Fields | ProtocolError {
  const lines = latin1(bytes.subarray(start, end)).split("\n");
  const first = trimLineEnd(lines[0] ?? "");
  if (first.length === 0) return malformed(ProtocolReason.EmptyFirstLine, "empty first line");
  const space = first.indexOf(" ");
  const verb = space < 0 ? first : first.slice(0, space);
  const args = space < 0 ? "" : first.slice(space + 1);
  let length: number | undefined;
  let password: Uint8Array | undefined;
  let extensions: string[] | undefined;
  let reason: string | undefined;
  let maxBodyBytes: number | undefined;
  // latin1 maps one byte to one char, so `at` is both the line's offset in the text and in `bytes`.
  let at = start + lines[0]!.length + 1;
  for (let i = 1; i < lines.length; at += lines[i]!.length + 1, i++) {
    const line = trimLineEnd(lines[i]!);
    if (line.length === 0) break;
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!isFieldName(name)) return malformed(ProtocolReason.BadHeaderLine, `not a header field: ${JSON.stringify(line.slice(0, 40))}`);
    // docs/protocol.md §1: field names are case-insensitive; unknown fields are ignored.
    if (name.length === 10 && name.toLowerCase() === "extensions") {
      // docs/protocol.md D49: a comma-separated list, in any case, spaces ignored.
      extensions = line.slice(colon + 1).split(",").map((each) => each.trim().toLowerCase()).filter((each) => each !== "");
      continue;
    }
    if (name.length === 6 && name.toLowerCase() === "reason") {
      reason = line.slice(colon + 1).trim();
      continue;
    }
    if (name.length === 8 && name.toLowerCase() === "password") {
      let value = colon + 1;
      while (line.charCodeAt(value) === 0x20 || line.charCodeAt(value) === 0x09) value++;
      // A copy: the block may be the framer's scratch, which the next message reuses.
      password = bytes.slice(at + value, at + line.length);
      continue;
    }
    if (name.length !== 14) continue;
    const lower = name.toLowerCase();
    let digits = colon + 1;
    while (line.charCodeAt(digits) === 0x20 || line.charCodeAt(digits) === 0x09) digits++;
    if (lower === "max-body-bytes") {
      const limit = parseInteger(bytes, maxInteger, at + digits, at + line.length);
      maxBodyBytes = limit < 0 ? undefined : limit;
      continue;
    }
    if (lower !== "content-length") continue;
    // docs/protocol.md D3; maxBodyBytes is the framer's bound, checked before any body byte.
    const value = parseInteger(bytes, maxInteger, at + digits, at + line.length);
    if (value < 0) return malformed(ProtocolReason.BadContentLength, `bad Content-length: ${JSON.stringify(line.slice(0, 40))}`);
    // Two different lengths would let two readers frame the stream differently.
    if (length !== undefined && length !== value) return malformed(ProtocolReason.ConflictingContentLength, "conflicting Content-length fields");
    length = value;
  }
  return { verb, args, argsAt: start + space + 1, length, password, extensions, reason, maxBodyBytes };
}

function splitRole(args: string): { role: string; name: string } {
  const space = args.indexOf(" ");
  return space < 0 ? { role: args, name: "" } : { role: args.slice(0, space), name: args.slice(space + 1) };
}

function isRole(role: string): role is Role {
  return role === Role.ToSend || role === Role.ToRecv;
}

/** An unparsable code is -1: the answer is still an error, and reads as one. */
function parseErrorArgs(bytes: Uint8Array, { args, argsAt }: Fields): { code: number; text: string } {
  const space = args.indexOf(" ");
  const code = parseInteger(bytes, maxInteger, argsAt, argsAt + (space < 0 ? args.length : space));
  return { code, text: space < 0 ? "" : args.slice(space + 1) };
}

export const decodeClientHead: HeadDecoder<ClientHead> = (bytes, start = 0, end = bytes.length) =>
  decodeHotClientHead(bytes, start, end) ?? parseClientHead(bytes, start, end);

/** The general client-head decoder: the definition the hot path must agree with. */
export const parseClientHead: HeadDecoder<ClientHead> = (bytes, start, end) => {
  const fields = parseBlock(bytes, start, end);
  if (fields instanceof ProtocolError) return fields;
  const { verb, args } = fields;
  const length = fields.length ?? 0;
  switch (verb) {
    case "SEND":
      // docs/protocol.md §4: no recipient or no Content-length means the stream cannot be trusted.
      if (args.length === 0) return malformed(ProtocolReason.MissingRecipient, "SEND without a recipient");
      if (fields.length === undefined) return malformed(ProtocolReason.MissingContentLength, "SEND without Content-length");
      return { verb, to: args, length };
    case "RECEIVED":
      return { verb, from: args, length };
    case "REGISTER": {
      const { role, name } = splitRole(args);
      if (!isRole(role)) return malformed(ProtocolReason.UnknownRole, `REGISTER with unknown role ${JSON.stringify(role.slice(0, 16))}`);
      return { verb, role, name, length, password: fields.password, extensions: fields.extensions };
    }
    case "ERROR":
      return { verb, ...parseErrorArgs(bytes, fields), length };
    case "WHO": // docs/protocol.md D51: the peer refuses it unless presence was granted.
      return { verb, length };
    default:
      return malformed(ProtocolReason.UnknownVerb, `unknown verb ${JSON.stringify(verb.slice(0, 16))}`);
  }
};

export const decodeServerHead: HeadDecoder<ServerHead> = (bytes, start, end) => {
  const fields = parseBlock(bytes, start, end);
  if (fields instanceof ProtocolError) return fields;
  const { verb, args } = fields;
  const length = fields.length ?? 0;
  switch (verb) {
    case "SENT":
    case "SEND": // docs/protocol.md D8: the original design's table spells the success reply SEND.
      return { verb: "SENT", to: args, length };
    case "FORWARD":
      if (args.length === 0) return malformed(ProtocolReason.MissingSender, "FORWARD without a sender");
      if (fields.length === undefined) return malformed(ProtocolReason.MissingContentLength, "FORWARD without Content-length");
      return { verb, from: args, length };
    case "REGISTERED": {
      const { role, name } = splitRole(args);
      if (!isRole(role)) return malformed(ProtocolReason.UnknownRole, `REGISTERED with unknown role ${JSON.stringify(role.slice(0, 16))}`);
      const { extensions, maxBodyBytes } = fields;
      return { verb, role, name, length, ...(extensions === undefined ? {} : { extensions }), ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }) };
    }
    case "ERROR":
      return { verb, ...parseErrorArgs(bytes, fields), length, reason: fields.reason };
    case "USERS": {
      const total = parseInteger(bytes, maxInteger, fields.argsAt, fields.argsAt + args.length);
      if (total < 0) return malformed(ProtocolReason.BadHeaderLine, `USERS without a count: ${JSON.stringify(args.slice(0, 16))}`);
      return { verb, total, length };
    }
    case "ONLINE":
    case "OFFLINE":
      return { verb, name: args, length };
    case "RESYNC":
      return { verb, length };
    default:
      return malformed(ProtocolReason.UnknownVerb, `unknown verb ${JSON.stringify(verb.slice(0, 16))}`);
  }
};

function withBody(head: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * With `password`, its bytes as they are in a Password field (docs/protocol.md
 * §7); with `extensions`, an Extensions field asking for them (D49).
 */
export function encodeRegister(role: Role, name: string, password?: Uint8Array, extensions?: readonly string[]): Uint8Array {
  const asking = extensions === undefined ? "" : `\nExtensions: ${extensions.join(", ")}`;
  if (password === undefined) return ascii(`REGISTER ${role} ${name}${asking}\n\n`);
  const head = ascii(`REGISTER ${role} ${name}${asking}\nPassword: `);
  const out = new Uint8Array(head.length + password.length + 2);
  out.set(head);
  out.set(password, head.length);
  out.set([0x0a, 0x0a], head.length + password.length);
  return out;
}

/**
 * With `fields` (extensions were asked for, docs/protocol.md D49), the
 * granted extensions and the limits a client should know, as header fields.
 */
export function encodeRegistered(role: Role, name: string, fields?: Readonly<Record<string, string | number>>): Uint8Array {
  if (fields !== undefined) return ascii(`REGISTERED ${role} ${name}\n${Object.entries(fields).map(([key, value]) => (value === "" ? `${key}:\n` : `${key}: ${value}\n`)).join("")}\n`);
  return ascii(`REGISTERED ${role} ${name}\n\n`);
}

export function encodeSendHead(to: string, length: number): Uint8Array {
  return ascii(`SEND ${to}\nContent-length: ${length}\n\n`);
}

export function encodeSend(to: string, body: Uint8Array): Uint8Array {
  return withBody(encodeSendHead(to, body.length), body);
}

export function encodeSent(to: string): Uint8Array {
  return ascii(`SENT ${to}\n\n`);
}

export function encodeForwardHead(from: string, length: number): Uint8Array {
  return ascii(`FORWARD ${from}\nContent-length: ${length}\n\n`);
}

export function encodeForward(from: string, body: Uint8Array): Uint8Array {
  return withBody(encodeForwardHead(from, body.length), body);
}

export function encodeReceived(from: string): Uint8Array {
  return ascii(`RECEIVED ${from}\n\n`);
}
