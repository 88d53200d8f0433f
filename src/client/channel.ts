// One connection of a client, holding one role: its transport, the reader of
// the server's stream, its write side, and the wait for its REGISTER's answer.
// The Link that owns it hears everything it reads and when it closes.

import type { Transport, TransportHandler } from "../net/transport.ts";
import type { Role, ServerHead } from "../protocol/messages.ts";
import type { ServerReader } from "./lenient-reader.ts";

/** What a channel tells its link. */
export type ChannelOwner = {
  onData(channel: Channel, chunk: Uint8Array): void;
  onClose(channel: Channel, reason: string): void;
  lose(reason: string): void;
};

export class Channel implements TransportHandler {
  readonly role: Role;
  readonly reader: ServerReader;
  readonly #owner: ChannelOwner;
  /** docs/protocol.md D68: for servers that read one message per recv(), each message leaves in a write() of its own. */
  readonly #oneMessagePerWrite: boolean;
  #waiting: Uint8Array[] = [];
  transport: Transport | undefined;
  isClosed = false;
  /** Registration: the first reply on this channel goes here. */
  waiter: ((head: ServerHead | string) => void) | undefined;
  #onClosed: (() => void)[] = [];

  constructor(role: Role, reader: ServerReader, owner: ChannelOwner, oneMessagePerWrite: boolean) {
    this.role = role;
    this.reader = reader;
    this.#owner = owner;
    this.#oneMessagePerWrite = oneMessagePerWrite;
  }

  onData(chunk: Uint8Array): void {
    this.#owner.onData(this, chunk);
  }

  onEnd(): void {
    this.#owner.onClose(this, "the server closed the connection");
  }

  onClose(error?: string): void {
    this.#owner.onClose(this, error ?? "the server closed the connection");
  }

  onOverflow(): void {
    this.#owner.lose("the server is not reading (write queue full)");
  }

  onFlushed(): void {
    if (this.#waiting.length > 0 && !this.#isWriting()) this.transport?.write(this.#waiting.shift()!);
  }

  /** One whole message. */
  write(bytes: Uint8Array): void {
    if (this.isClosed || this.transport === undefined) return;
    // Everything written in one turn would leave in one write() (src/net/outbox.ts): wait for the last to leave.
    if (this.#oneMessagePerWrite && (this.#waiting.length > 0 || this.#isWriting())) this.#waiting.push(bytes);
    else this.transport.write(bytes);
  }

  #isWriting(): boolean {
    const transport = this.transport;
    return transport !== undefined && transport.flushedTotal < transport.queuedTotal;
  }

  markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#waiting = [];
    for (const resolve of this.#onClosed.splice(0)) resolve();
  }

  /** Flushes what is queued, ends the connection, and resolves once it is closed (or dropped after a grace period). */
  end(): Promise<void> {
    if (this.isClosed || this.transport === undefined) {
      this.markClosed();
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#onClosed.push(resolve);
    // Leaving: what waits for its own write() goes now, rather than not at all.
    for (const bytes of this.#waiting.splice(0)) this.transport.write(bytes);
    // The transport ends once flushed, or after its grace period; its close event resolves this.
    this.transport.end();
    return promise;
  }

  terminate(): void {
    if (!this.isClosed) this.transport?.terminate();
    this.markClosed();
  }
}
