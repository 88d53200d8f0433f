// Bytes as the kit handles them: text or raw in, raw out, and shown escaped
// on one line (every byte visible, nothing the terminal would act on).

export type Bytes = string | Uint8Array;

const encoder = new TextEncoder();

export function toBytes(data: Bytes): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** One array holding `parts` back to back. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Each byte as one character (Latin-1), so no byte is lost or merged in a header line. */
export function latin1(data: Uint8Array, start = 0, end = data.length): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(data[i]!);
  return text;
}

const named: Readonly<Record<number, string>> = { 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x5c: "\\\\", 0x22: '\\"' };

/** `"SENT bob\n\n"`: printable ASCII as is, \n \r \t as such, every other byte \xNN; past `max` bytes, how many more. */
export function escape(data: Bytes, max = 160): string {
  const all = toBytes(data);
  let text = "";
  for (const byte of all.subarray(0, max)) {
    text += named[byte] ?? (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`);
  }
  return `"${text}"${all.length > max ? `...(${all.length} bytes)` : ""}`;
}
