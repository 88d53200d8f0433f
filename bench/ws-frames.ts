// The client half of RFC 6455 that the bench's WebSocket users need, with no
// socket: the upgrade request and its answer, masked frames out, and the
// server's frames read back out of TCP chunks. Bun's own client WebSocket
// writes every send() on its own and dispatches an event per message, which
// cost its generator more CPU per round trip than the relays it drives
// (bench/README.md "WebSocket"); frames built here are written in one block.

/** A fixed key: the bench is no browser, and the server only echoes it back hashed. */
const key = "dGhlIHNhbXBsZSBub25jZQ==";
/** The answer RFC 6455 §1.3 gives for that key. */
const accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

export const Opcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

/** The GET that asks `/ws` on `port` for a WebSocket; no Origin, as a client that is no browser (docs/protocol.md D47). */
export function upgradeRequest(port: number): Uint8Array {
  const lines = ["GET /ws HTTP/1.1", `Host: 127.0.0.1:${port}`, "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13"];
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`);
}

/** The error in an upgrade response's head (up to its blank line), or undefined if it switched protocols. */
export function checkUpgradeResponse(head: string): string | undefined {
  const status = head.slice(0, head.indexOf("\r\n"));
  if (!/^HTTP\/1\.1 101 /.test(status)) return `the upgrade was refused: ${status}`;
  const field = head.split("\r\n").find((line) => /^sec-websocket-accept:/i.test(line));
  if (field?.slice(field.indexOf(":") + 1).trim() !== accept) return "the upgrade answered a wrong Sec-WebSocket-Accept";
  return undefined;
}

/**
 * One final frame from the client. Its masking key is zero, so the payload
 * goes out as it is: RFC 6455 §5.3 asks browsers for unpredictable keys to
 * protect proxies' caches, and a server cannot tell one key from another.
 */
export function maskedFrame(payload: Uint8Array, opcode: number = Opcode.Binary): Uint8Array {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = 2 + extended + 4;
  const frame = new Uint8Array(head + length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (extended === 0 ? length : extended === 2 ? 126 : 127);
  const view = new DataView(frame.buffer);
  if (extended === 2) view.setUint16(2, length);
  if (extended === 8) view.setBigUint64(2, BigInt(length));
  frame.set(payload, head);
  return frame;
}

/**
 * The server's frames, out of TCP chunks split anywhere. Each chunk's
 * payloads go to `onPayloads` at once, joined, as one stream of protocol
 * bytes (each WebSocket message is one protocol message, docs/protocol.md
 * D44): the load works per chunk, as over TCP. A frame split across chunks is
 * copied once it is whole; control frames go to `onControl`.
 */
export class FrameReader {
  readonly #onPayloads: (bytes: Uint8Array) => void;
  readonly #onControl: (opcode: number, payload: Uint8Array) => void;
  /** The start of a frame that did not fit its chunk, kept for the next. */
  #partial: Uint8Array | undefined;
  /** Where the payloads of one chunk are joined; grows to the largest chunk seen. */
  #joined = new Uint8Array(4096);

  constructor(onPayloads: (bytes: Uint8Array) => void, onControl: (opcode: number, payload: Uint8Array) => void) {
    this.#onPayloads = onPayloads;
    this.#onControl = onControl;
  }

  /** Returns the error that stops reading (a frame a client must not get), or undefined. */
  push(chunk: Uint8Array): string | undefined {
    let bytes = chunk;
    if (this.#partial !== undefined) {
      bytes = new Uint8Array(this.#partial.length + chunk.length);
      bytes.set(this.#partial);
      bytes.set(chunk, this.#partial.length);
      this.#partial = undefined;
    }
    const payloads: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      const frame = frameAt(bytes, at);
      if (typeof frame === "string") return frame;
      if (frame === undefined) {
        this.#partial = bytes.slice(at);
        break;
      }
      const payload = bytes.subarray(frame.start, frame.end);
      if (frame.opcode === Opcode.Binary || frame.opcode === Opcode.Text) payloads.push(payload);
      else this.#onControl(frame.opcode, payload);
      at = frame.end;
    }
    if (payloads.length === 1) this.#onPayloads(payloads[0]!);
    else if (payloads.length > 1) this.#onPayloads(this.#join(payloads));
    return undefined;
  }

  #join(payloads: Uint8Array[]): Uint8Array {
    const total = payloads.reduce((sum, payload) => sum + payload.length, 0);
    if (total > this.#joined.length) this.#joined = new Uint8Array(total * 2);
    let at = 0;
    for (const payload of payloads) {
      this.#joined.set(payload, at);
      at += payload.length;
    }
    return this.#joined.subarray(0, total);
  }
}

type Frame = { opcode: number; start: number; end: number };

/** The frame at `at`, undefined if it is not all there yet, or why it is not one a server may send. */
function frameAt(bytes: Uint8Array, at: number): Frame | string | undefined {
  if (bytes.length - at < 2) return undefined;
  const first = bytes[at]!;
  const second = bytes[at + 1]!;
  if ((first & 0x80) === 0 || (first & 0x0f) === Opcode.Continuation) return "a fragmented WebSocket message (the server sends each whole)";
  if (second & 0x80) return "a masked frame from the server";
  let length = second & 0x7f;
  let start = at + 2;
  if (length === 126) {
    if (bytes.length - at < 4) return undefined;
    length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    start += 2;
  } else if (length === 127) {
    if (bytes.length - at < 10) return undefined;
    length = Number(new DataView(bytes.buffer, bytes.byteOffset + at + 2, 8).getBigUint64(0));
    start += 8;
  }
  const end = start + length;
  return end > bytes.length ? undefined : { opcode: first & 0x0f, start, end };
}
