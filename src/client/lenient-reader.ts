// How `parley client --compat` reads a server (docs/protocol.md D68): the
// Framer's frames, from a server that ends a message with a single \n where
// §1 wants an empty line, as many implementations of the original design do
// (`SENT bob\n`, `FORWARD alice\nContent-length: 5\nhello`). `\n \n` and
// trailing spaces are §1 already. Pure; incremental, any split of the stream.

import { isLineSpace, latin1 } from "../protocol/ascii.ts";
import { ErrorCode, ProtocolError, ProtocolReason, snippet } from "../protocol/errors.ts";
import type { FramerLimits } from "../protocol/limits.ts";
import { decodeServerHead, type ServerHead } from "../protocol/messages.ts";
import type { FrameSink } from "../protocol/framer.ts";

/** What reads the server's stream: the Framer, or this. */
export type ServerReader = { push(chunk: Uint8Array, sink: FrameSink<ServerHead>): ProtocolError | undefined };

// Only these carry fields and a body in version 1 (and USERS in §7); any other
// message is whole at the end of its first line.
const verbsWithBody: ReadonlySet<string> = new Set(["FORWARD", "USERS"]);
const contentLength = /^content-length\s*:/i;
const LF = 0x0a;

/** "line": reading a header line; "gap": after Content-length, an empty line or the body; "body": counting it down. */
type State = "line" | "gap" | "body" | "failed";

export class LenientReader implements ServerReader {
  readonly #limits: FramerLimits;
  #state: State = "line";
  #error: ProtocolError | undefined;
  /** The block's complete lines, each ending in \n, as Latin-1 (docs/protocol.md D7). */
  #block = "";
  #line = "";
  /** Spaces, tabs and \r seen after Content-length: the empty line's, or the body's first bytes. */
  #gap = "";
  #head: ServerHead | undefined;
  #headBytes = 0;
  #body = new Uint8Array(0);
  #bodyBytes = 0;

  constructor(limits: FramerLimits) {
    this.#limits = limits;
  }

  push(chunk: Uint8Array, sink: FrameSink<ServerHead>): ProtocolError | undefined {
    let i = 0;
    while (i < chunk.length && this.#state !== "failed") {
      if (this.#state === "body") i = this.#pushBody(chunk, i, sink);
      else if (this.#state === "gap") i = this.#pushGap(chunk, i, sink);
      else i = this.#pushLine(chunk, i, sink);
    }
    return this.#error;
  }

  #pushLine(chunk: Uint8Array, start: number, sink: FrameSink<ServerHead>): number {
    const lf = chunk.indexOf(LF, start);
    this.#line += latin1(chunk.subarray(start, lf < 0 ? chunk.length : lf));
    if (this.#block.length + this.#line.length > this.#limits.maxHeaderBytes) return this.#fail(ProtocolReason.HeaderTooLong, `header block over ${this.#limits.maxHeaderBytes} bytes`);
    if (lf < 0) return chunk.length;
    const line = this.#line;
    this.#line = "";
    const blank = isBlank(line);
    if (this.#block === "") {
      // docs/protocol.md §1: empty lines before a message are skipped, so a proper terminator after a one-line message is too.
      if (blank) return lf + 1;
      if (!verbsWithBody.has(line.split(" ", 1)[0]!)) {
        this.#finishHead(`${line}\n`, sink);
        return lf + 1;
      }
      this.#block = `${line}\n`;
      return lf + 1;
    }
    if (blank) {
      this.#finishHead(this.#block, sink);
      return lf + 1;
    }
    this.#block += `${line}\n`;
    if (contentLength.test(line)) this.#state = "gap";
    return lf + 1;
  }

  /** After Content-length: an empty line (of spaces, perhaps) ends the block; anything else is the body, begun. */
  #pushGap(chunk: Uint8Array, start: number, sink: FrameSink<ServerHead>): number {
    let i = start;
    while (i < chunk.length && isLineSpace(chunk[i])) i++;
    this.#gap += latin1(chunk.subarray(start, i));
    if (this.#gap.length > this.#limits.maxHeaderBytes) return this.#fail(ProtocolReason.HeaderTooLong, `header block over ${this.#limits.maxHeaderBytes} bytes`);
    if (i === chunk.length) return i;
    const gap = this.#gap;
    this.#gap = "";
    this.#state = "line";
    if (chunk[i] === LF) {
      this.#finishHead(this.#block, sink);
      return i + 1;
    }
    // A single \n ended the block: the spaces seen begin the body (or, past it, the next line).
    const took = this.#finishHead(this.#block, sink) ? this.#take(Uint8Array.from(gap, (c) => c.charCodeAt(0)), 0, gap.length, sink) : 0;
    this.#line = gap.slice(took);
    return i;
  }

  #pushBody(chunk: Uint8Array, start: number, sink: FrameSink<ServerHead>): number {
    return start + this.#take(chunk, start, chunk.length - start, sink);
  }

  /** Adds up to `available` bytes from `bytes[start]` to the body; returns how many it took. */
  #take(bytes: Uint8Array, start: number, available: number, sink: FrameSink<ServerHead>): number {
    const take = Math.min(this.#body.length - this.#bodyBytes, available);
    this.#body.set(bytes.subarray(start, start + take), this.#bodyBytes);
    this.#bodyBytes += take;
    if (this.#bodyBytes === this.#body.length) {
      this.#state = "line";
      sink(this.#head!, this.#body, this.#headBytes);
    }
    return take;
  }

  /** Decodes a complete block; returns whether a body follows it. */
  #finishHead(block: string, sink: FrameSink<ServerHead>): boolean {
    this.#block = "";
    const head = decodeServerHead(Uint8Array.from(block, (c) => c.charCodeAt(0)));
    if (head instanceof ProtocolError) {
      this.#state = "failed";
      this.#error = head;
      return false;
    }
    if (head.length > this.#limits.maxBodyBytes) {
      this.#fail(ProtocolReason.BodyTooLong, `Content-length ${head.length} over ${this.#limits.maxBodyBytes}`);
      return false;
    }
    if (head.length === 0) {
      this.#state = "line";
      sink(head, new Uint8Array(0), block.length);
      return false;
    }
    this.#head = head;
    this.#headBytes = block.length;
    this.#body = new Uint8Array(head.length);
    this.#bodyBytes = 0;
    this.#state = "body";
    return true;
  }

  #fail(reason: ProtocolReason, detail: string): number {
    this.#state = "failed";
    this.#error = new ProtocolError(ErrorCode.HeaderIncomplete, `${detail} at ${snippet(Uint8Array.from(this.#block + this.#line, (c) => c.charCodeAt(0)))}`, reason);
    return Number.MAX_SAFE_INTEGER;
  }
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (!isLineSpace(line.charCodeAt(i))) return false;
  return true;
}
