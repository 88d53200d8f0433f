// ASCII <-> bytes for header text. Headers are ASCII (docs/protocol.md §1), so one
// byte is one character; this avoids a TextEncoder/TextDecoder round trip per
// message on the hot path.

/** Header text to bytes. Throws on anything but printable ASCII and \n: a bug, never input. */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c > 0x7e) throw new RangeError(`not header text: ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

/** Bytes as latin1 text: every byte maps to one char, so non-ASCII cannot hide a newline or colon. */
export function latin1(bytes: Uint8Array): string {
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}

/** docs/protocol.md §1: what may trail a header line, and all a blank line may hold: space, tab and the \r of \r\n. */
export function isLineSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d;
}
