// A socket's write queue. Bun's write() is unbuffered: it returns how many
// bytes the kernel took and drops the rest (measured on Bun 1.4.5). Everything written
// in one event-loop turn leaves in one write(); the unwritten tail waits for
// `drain`; too many waiting bytes is a slow consumer.

/** The part of a Bun socket the outbox uses. */
export interface ByteSink {
  /** Writes `data[byteOffset, byteOffset + byteLength)`; returns how many bytes were taken, or -1 if closed. */
  write(data: Uint8Array, byteOffset: number, byteLength: number): number;
  end(): void;
}

// How long end() waits for a peer to take the last bytes (an ERROR 103, the
// 102s of a shutdown) before ending the socket anyway: a peer that does not
// read must not hold a closing connection open.
export const closeGraceMs = 1000;

// One concatenation buffer for every outbox: write() copies into the kernel
// synchronously, so it is free again as soon as write() returns.
const scratch = new Uint8Array(256 * 1024);

// Behind a blocked socket, small writes are copied into one growing buffer: a
// 22-byte reply kept as its own array cost ~190 bytes of heap, so counting
// bytes would not have counted what is held (docs/protocol.md §6 "Memory").
const coalesceUpTo = 1024;
const firstTailBytes = 4096;
const maxTailBytes = 256 * 1024;

export class Outbox {
  readonly #sink: ByteSink;
  readonly #maxQueuedBytes: number;
  readonly #onOverflow: () => void;
  readonly #onFlushed: (() => void) | undefined;
  #parts: Uint8Array[] = [];
  #queuedBytes = 0;
  #queuedTotal = 0;
  #flushedTotal = 0;
  // The coalescing buffer and how much of it is used; its view is the last part.
  #tail: Uint8Array | undefined;
  #tailUsed = 0;
  #scheduled = false;
  #blocked = false;
  #ending = false;
  #closed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  /** `onFlushed` runs after a write() that the kernel took any of. */
  constructor(sink: ByteSink, maxQueuedBytes: number, onOverflow: () => void, onFlushed?: () => void) {
    this.#sink = sink;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#onOverflow = onOverflow;
    this.#onFlushed = onFlushed;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Bytes ever queued; with flushedTotal, tells when a given byte has reached the kernel. */
  get queuedTotal(): number {
    return this.#queuedTotal;
  }

  /** Bytes ever taken by the kernel. */
  get flushedTotal(): number {
    return this.#flushedTotal;
  }

  /** Queues bytes; the caller must not mutate them until they are flushed. */
  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    if (!this.#blocked) this.#parts.push(bytes);
    else if (bytes.length <= coalesceUpTo) this.#coalesce(bytes);
    // A view pins its whole backing buffer, a socket read of up to 512 KiB
    // (Bun 1.4.5). Behind a blocked socket it may wait until a deadline, so
    // keep a copy: queuedBytes must be what is really held, or one-byte bodies
    // could pin 512 KiB each past the cap (docs/protocol.md §1 "Limits").
    else {
      this.#parts.push(ownsBuffer(bytes) ? bytes : copy(bytes));
      this.#tail = undefined; // the coalescing buffer is no longer the last part
    }
    this.#queuedBytes += bytes.length;
    this.#queuedTotal += bytes.length;
    if (this.#queuedBytes > this.#maxQueuedBytes) {
      this.close();
      this.#onOverflow();
      return;
    }
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTurn);
    }
  }

  readonly #flushTurn = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Writes everything queued in one write(); keeps what the kernel did not take. */
  flush(): void {
    if (this.#closed || this.#blocked) return;
    if (this.#queuedBytes > 0) {
      const length = this.#queuedBytes;
      const data = this.#joined();
      // Offsets, not a view of the scratch: a view is an allocation per flush.
      const written = this.#sink.write(data, 0, length);
      if (written < 0) {
        this.close();
        return;
      }
      this.#flushedTotal += written;
      this.#tail = undefined;
      if (written < length) {
        // The tail must outlive this call: copy it off the shared scratch, and
        // off any larger buffer it would otherwise pin (see write()).
        const tail = data !== scratch && ownsBuffer(data) ? data.subarray(written) : copy(data.subarray(written, length));
        this.#parts = [tail];
        this.#queuedBytes = tail.length;
        this.#blocked = true;
        if (written > 0) this.#onFlushed?.();
        return;
      }
      this.#parts.length = 0;
      this.#queuedBytes = 0;
      this.#onFlushed?.();
    }
    if (this.#ending) this.#endNow();
  }

  /** Appends a small write to the coalescing buffer, starting a bigger one when it is full. */
  #coalesce(bytes: Uint8Array): void {
    const parts = this.#parts;
    let tail = this.#tail;
    if (tail === undefined || this.#tailUsed + bytes.length > tail.length) {
      const size = tail === undefined ? firstTailBytes : Math.min(tail.length * 2, maxTailBytes);
      tail = this.#tail = new Uint8Array(size);
      this.#tailUsed = 0;
      parts.push(tail);
    }
    tail.set(bytes, this.#tailUsed);
    this.#tailUsed += bytes.length;
    parts[parts.length - 1] = tail.subarray(0, this.#tailUsed);
  }

  #endNow(): void {
    this.close();
    this.#sink.end();
  }

  /** The socket can take more: called from Bun's `drain` handler. */
  onDrain(): void {
    this.#blocked = false;
    this.flush();
  }

  /**
   * Flushes what is queued, then ends the socket; if the peer has not taken it
   * all within `graceMs`, ends it anyway and drops the rest. Later writes are dropped.
   */
  end(graceMs = closeGraceMs): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    this.#graceTimer = setTimeout(() => this.#endNow(), graceMs);
    if (!this.#scheduled) this.flush();
  }

  /** Drops what is queued; the socket is gone or is being dropped. */
  close(): void {
    this.#closed = true;
    this.#parts = [];
    this.#tail = undefined;
    this.#queuedBytes = 0;
    clearTimeout(this.#graceTimer);
  }

  /** Everything queued, from offset 0 of the returned array (the shared scratch when it fits). */
  #joined(): Uint8Array {
    const parts = this.#parts;
    if (parts.length === 1) return parts[0]!;
    const out = this.#queuedBytes <= scratch.length ? scratch : new Uint8Array(this.#queuedBytes);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** A copy with its own memory; Buffer#slice (socket chunks are Buffers) would return a view. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
