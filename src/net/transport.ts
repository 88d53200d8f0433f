// One byte stream to one peer, the same interface on the server's side and
// the client's (after nats.js core/src/transport.ts). The promises that the
// framer and the outbox rely on are written here, not left to comments.

/** What a transport calls; each is called from the transport's own event handlers. */
export interface TransportHandler {
  /**
   * A chunk of the stream, split anywhere. It is the handler's: it has its own
   * memory and is never reused by the transport, so a view of it may be kept.
   */
  onData(chunk: Uint8Array): void;
  /** The peer will send nothing more (a half-close); writing may go on. */
  onEnd(): void;
  /** The transport is closed and its queue dropped; called once. */
  onClose(error?: string): void;
  /** More bytes waited to be written than the cap allows: the queue is dropped and the transport is closing. */
  onOverflow(): void;
  /** The peer took some of what was queued (flushedTotal grew). */
  onFlushed(): void;
}

export interface Transport {
  readonly remoteAddress: string;
  /** Bytes written and not yet taken by the peer, as held in memory. */
  readonly queuedBytes: number;
  /** Bytes ever written; a message written when this was N has left once flushedTotal reaches N. */
  readonly queuedTotal: number;
  /** Bytes ever handed to the network. */
  readonly flushedTotal: number;
  /**
   * Queues bytes behind everything written before, without copying: the caller
   * must not mutate them afterwards. Nothing is dropped short of closing.
   */
  write(bytes: Uint8Array): void;
  /** Stops reading until resume(); what arrives meanwhile waits in the kernel. */
  pause(): void;
  resume(): void;
  /** Flushes what is queued, then closes; a peer that does not take it within a grace is dropped. */
  end(): void;
  /** Closes now, dropping what is queued. */
  close(): void;
  /** Resets the connection: for one given up on before it was used. */
  terminate(): void;
}
