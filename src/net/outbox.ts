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

export class Outbox {
  readonly #sink: ByteSink;
  readonly #maxQueuedBytes: number;
  readonly #onOverflow: () => void;
  #parts: Uint8Array[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  #blocked = false;
  #ending = false;
  #closed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(sink: ByteSink, maxQueuedBytes: number, onOverflow: () => void) {
    this.#sink = sink;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#onOverflow = onOverflow;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues bytes; the caller must not mutate them until they are flushed. */
  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    // A view pins its whole backing buffer, a socket read of up to 512 KiB
    // (Bun 1.4.5). Behind a blocked socket it may wait until the ack timeout,
    // so keep a copy: queuedBytes must be what is really held, or one-byte
    // bodies could pin 512 KiB each past the cap (docs/protocol.md §1 "Limits").
    if (this.#blocked && !ownsBuffer(bytes)) bytes = copy(bytes);
    this.#parts.push(bytes);
    this.#queuedBytes += bytes.length;
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
      if (written < length) {
        // The tail must outlive this call: copy it off the shared scratch, and
        // off any larger buffer it would otherwise pin (see write()).
        const tail = data !== scratch && ownsBuffer(data) ? data.subarray(written) : copy(data.subarray(written, length));
        this.#parts = [tail];
        this.#queuedBytes = tail.length;
        this.#blocked = true;
        return;
      }
      this.#parts.length = 0;
      this.#queuedBytes = 0;
    }
    if (this.#ending) this.#endNow();
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
