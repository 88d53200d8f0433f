// Reads one server message from the front of a buffer as a lenient client
// would (PROTOCOL.md §1), and says which lenient readings (deviations.ts) it
// took to read it. Pure: bytes in, a message, "not yet" or "unreadable" out.

import { latin1 } from "./bytes.ts";
import type { Deviation } from "./deviations.ts";

/** `raw` is the text after the colon as written; `value` is it trimmed. */
export type Field = { readonly name: string; readonly raw: string; readonly value: string };

export type Message = {
  /** The first line, without its line end or trailing spaces. */
  readonly first: string;
  readonly fields: readonly Field[];
  readonly body: Uint8Array;
  readonly deviations: ReadonlySet<Deviation>;
};

export type Read =
  | { readonly kind: "message"; readonly message: Message; readonly size: number }
  /** More bytes are needed; the first line once it is whole, so a wrong one fails without waiting. */
  | { readonly kind: "partial"; readonly firstLine?: string }
  | { readonly kind: "unreadable"; readonly why: string };

/** What the kit is willing to hold for one message: far more than any transcript expects. */
export const readLimits = { headerBytes: 64 * 1024, bodyBytes: 1024 * 1024 } as const;

const LF = 0x0a;

/**
 * `ended`: no more bytes are coming for now (a deadline passed, or the
 * stream closed), so whole lines with no empty line after them are a message.
 */
export function readMessage(buffer: Uint8Array, ended: boolean): Read {
  const deviations = new Set<Deviation>();
  let at = 0;
  // Empty lines before a message are skipped (PROTOCOL.md §1); a server that writes them deviates.
  for (let lf = buffer.indexOf(LF); lf >= 0 && isBlank(buffer, at, lf); lf = buffer.indexOf(LF, at)) {
    deviations.add("blank-line");
    at = lf + 1;
  }
  const start = at;
  const lines: string[] = [];
  for (;;) {
    const lf = buffer.indexOf(LF, at);
    if (lf < 0) {
      if (buffer.length - start > readLimits.headerBytes) return { kind: "unreadable", why: `a header block over ${readLimits.headerBytes} bytes` };
      if (ended && at === buffer.length && lines.length > 0) {
        deviations.add("no-empty-line");
        break;
      }
      return { kind: "partial", firstLine: lines[0] };
    }
    let line = latin1(buffer, at, lf);
    if (line.endsWith("\r")) {
      deviations.add("crlf");
      line = line.slice(0, -1);
    }
    const trimmed = line.replace(/[ \t]+$/, "");
    // A line that is no header field after the first starts the next message: the block had no empty line.
    if (lines.length > 0 && trimmed !== "" && !trimmed.includes(":")) {
      deviations.add("no-empty-line");
      break;
    }
    at = lf + 1;
    if (trimmed === "") {
      if (line !== "") deviations.add("space-terminator");
      break;
    }
    if (trimmed !== line) deviations.add("trailing-space");
    lines.push(trimmed);
  }
  const fields: Field[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "unreadable", why: `a header line that is no field: ${JSON.stringify(line)}` };
    const raw = line.slice(colon + 1);
    fields.push({ name: line.slice(0, colon), raw, value: raw.trim() });
  }
  const length = contentLength(fields);
  if (typeof length === "string") return { kind: "unreadable", why: length };
  if (buffer.length - at < length) return { kind: "partial", firstLine: lines[0] };
  return { kind: "message", message: { first: lines[0]!, fields, body: buffer.subarray(at, at + length), deviations }, size: at + length };
}

/** The body's length, 0 without the field, or why it cannot be read. */
function contentLength(fields: readonly Field[]): number | string {
  const values = new Set(fields.filter((field) => field.name.toLowerCase() === "content-length").map((field) => field.value));
  if (values.size > 1) return `two different Content-length fields: ${[...values].join(", ")}`;
  const [value] = values;
  if (value === undefined) return 0;
  if (!/^[0-9]{1,15}$/.test(value)) return `Content-length ${JSON.stringify(value)} is not a number`;
  const length = Number(value);
  return length > readLimits.bodyBytes ? `Content-length ${length}, more than the ${readLimits.bodyBytes} bytes the kit reads` : length;
}

function isBlank(buffer: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buffer[i] !== 0x20 && buffer[i] !== 0x09 && buffer[i] !== 0x0d) return false;
  return true;
}
