// The byte machine of docs/protocol.md §1: chunks of any size in, complete
// (head, body) frames out, in order. Pure and incremental: the scan position
// is carried across chunks, nothing is ever rescanned, and at most one header
// scratch buffer and one body buffer are held.

import { isLineSpace } from "./ascii.ts";
import { ErrorCode, ProtocolError, ProtocolReason, snippet } from "./errors.ts";
import type { FramerLimits } from "./limits.ts";
import type { HeadDecoder } from "./messages.ts";

type State = "head" | "body" | "failed";

const LF = 0x0a;
const always = () => true;
const EMPTY = new Uint8Array(0);
const copyBodiesUpTo = 4096;

/** A copy with its own memory, even from a Buffer (whose own slice() is a view). */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}

/**
 * Called once per complete message, with the size of its header block. A
 * large `body` is a view of the pushed chunk, which pins the chunk while it is kept.
 */
export type FrameSink<H> = (head: H, body: Uint8Array, headBytes: number) => void;

export class Framer<H extends { readonly length: number }> {
  readonly #limits: FramerLimits;
  readonly #decode: HeadDecoder<H>;
  #state: State = "head";
  #error: ProtocolError | undefined;

  // head state: the current header block, counted from the first byte of its
  // first line (leading empty lines are dropped as they complete).
  #headBytes = 0;
  #scratch: Uint8Array | undefined;
  #scratchBytes = 0;
  #lineBlank = true;
  #started = false;

  // body state
  #head: H | undefined;
  #headSize = 0;
  #body: Uint8Array | undefined;
  #bodyBytes = 0;

  constructor(limits: FramerLimits, decode: HeadDecoder<H>) {
    this.#limits = limits;
    this.#decode = decode;
  }

  /** Bytes held between pushes; never more than maxHeaderBytes + maxBodyBytes. */
  get bufferedBytes(): number {
    return this.#scratchBytes + (this.#body === undefined ? 0 : this.#body.length);
  }

  /** The error that stopped parsing, if any (sticky). */
  get error(): ProtocolError | undefined {
    return this.#error;
  }

  /** Whether no header block or body is in progress: a message-based transport (WebSocket) requires it after each message. */
  get atBoundary(): boolean {
    return this.#state === "head" && !this.#started && this.#scratchBytes === 0;
  }

  /** Delivers each complete frame to `sink` in order; returns the error that stopped parsing, if any (sticky). */
  push(chunk: Uint8Array, sink: FrameSink<H>): ProtocolError | undefined {
    this.pushWhile(chunk, sink, always);
    return this.#error;
  }

  /**
   * Like push(), but stops between frames once `more()` is false, so a reader
   * that must wait keeps the rest as bytes rather than as decoded messages
   * (a few bytes each, not an object each). Returns how many bytes of `chunk`
   * it took: all of them after an error.
   */
  pushWhile(chunk: Uint8Array, sink: FrameSink<H>, more: () => boolean): number {
    let i = 0;
    while (i < chunk.length && this.#state !== "failed" && more()) {
      i = this.#state === "head" ? this.#pushHead(chunk, i, sink) : this.#pushBody(chunk, i, sink);
    }
    return this.#state === "failed" ? chunk.length : i;
  }

  #fail(reason: ProtocolReason, detail: string, bytes: Uint8Array): number {
    this.#state = "failed";
    this.#error = new ProtocolError(ErrorCode.HeaderIncomplete, `${detail} at ${snippet(bytes)}`, reason);
    this.#scratch = undefined;
    this.#scratchBytes = 0;
    this.#body = undefined;
    return Number.MAX_SAFE_INTEGER;
  }

  /** Scans whole lines from `start`; returns where the next state starts reading. */
  #pushHead(chunk: Uint8Array, start: number, sink: FrameSink<H>): number {
    const max = this.#limits.maxHeaderBytes;
    let blockStart = start;
    let i = start;
    while (i < chunk.length) {
      const lf = chunk.indexOf(LF, i);
      const lineEnd = lf < 0 ? chunk.length : lf + 1;
      if (this.#lineBlank) this.#lineBlank = isBlank(chunk, i, lf < 0 ? chunk.length : lf);
      this.#headBytes += lineEnd - i;
      // docs/protocol.md §1 "Limits": checked while the block accumulates, so an endless
      // header is refused at max + 1 bytes whether it arrives whole or split.
      if (this.#headBytes > max) return this.#fail(ProtocolReason.HeaderTooLong, `header block over ${max} bytes`, chunk.subarray(blockStart));
      i = lineEnd;
      if (lf < 0) break;
      const blank = this.#lineBlank;
      this.#lineBlank = true;
      if (!blank) {
        this.#started = true;
        continue;
      }
      if (!this.#started) {
        // docs/protocol.md §1: empty lines before a message are skipped.
        this.#headBytes = 0;
        this.#scratchBytes = 0;
        blockStart = i;
        continue;
      }
      if (this.#scratchBytes === 0) return this.#endHead(chunk, blockStart, i, i, sink);
      this.#stash(chunk.subarray(blockStart, i));
      return this.#endHead(this.#scratch!, 0, this.#scratchBytes, i, sink);
    }
    // The block continues in the next chunk: keep its bytes so far (at most max).
    if (blockStart < chunk.length) this.#stash(chunk.subarray(blockStart));
    return chunk.length;
  }

  #stash(part: Uint8Array): void {
    this.#scratch ??= new Uint8Array(this.#limits.maxHeaderBytes);
    this.#scratch.set(part, this.#scratchBytes);
    this.#scratchBytes += part.length;
  }

  /** Decodes the block `bytes[start, end)`: in the chunk when it lies inside it, else in the scratch copy. */
  #endHead(bytes: Uint8Array, start: number, end: number, next: number, sink: FrameSink<H>): number {
    this.#headBytes = 0;
    this.#scratchBytes = 0;
    this.#started = false;
    const head = this.#decode(bytes, start, end);
    if (head instanceof ProtocolError) {
      this.#state = "failed";
      this.#error = head;
      this.#scratch = undefined;
      return Number.MAX_SAFE_INTEGER;
    }
    // docs/protocol.md §1 "Limits": refuse an oversize body before buffering any of it.
    if (head.length > this.#limits.maxBodyBytes) {
      return this.#fail(ProtocolReason.BodyTooLong, `Content-length ${head.length} over ${this.#limits.maxBodyBytes}`, bytes.subarray(start, end));
    }
    if (head.length === 0) {
      sink(head, EMPTY, end - start);
      return next;
    }
    this.#head = head;
    this.#headSize = end - start;
    this.#bodyBytes = 0;
    this.#state = "body";
    return next;
  }

  #pushBody(chunk: Uint8Array, start: number, sink: FrameSink<H>): number {
    const head = this.#head!;
    const available = chunk.length - start;
    // Fast path: the whole body is in this chunk; jump the index over it. A
    // small body is copied: the first view of a fresh chunk costs more than
    // the copy (~150 ns, measured on Bun 1.4.5) and would pin the whole chunk.
    if (this.#body === undefined && available >= head.length) {
      const end = start + head.length;
      this.#finishBody(sink, head, head.length <= copyBodiesUpTo ? copyOf(chunk, start, end) : chunk.subarray(start, end));
      return end;
    }
    // Split body: one buffer of exactly Content-length, filled once.
    this.#body ??= new Uint8Array(head.length);
    const take = Math.min(head.length - this.#bodyBytes, available);
    this.#body.set(chunk.subarray(start, start + take), this.#bodyBytes);
    this.#bodyBytes += take;
    if (this.#bodyBytes === head.length) {
      const body = this.#body;
      this.#body = undefined;
      this.#finishBody(sink, head, body);
    }
    return start + take;
  }

  #finishBody(sink: FrameSink<H>, head: H, body: Uint8Array): void {
    this.#head = undefined;
    this.#state = "head";
    sink(head, body, this.#headSize);
  }
}

/** docs/protocol.md §1: a line of only spaces or tabs (and a \r) counts as the empty line. */
function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (!isLineSpace(bytes[i])) return false;
  }
  return true;
}
