// The core's Wire over a byte stream (TCP now, TLS alike): a framer turns
// chunks into messages for the Peer, and the Peer's messages go out through
// the transport's queue. Everything about users lives in the core.

import type { Hub, Wire } from "../core/hub.ts";
import { Peer } from "../core/peer.ts";
import { CloseReason } from "../core/reasons.ts";
import { ErrorCode, ProtocolError, ProtocolReason } from "../protocol/errors.ts";
import { Framer } from "../protocol/framer.ts";
import { decodeClientHead, encodeForwardHead, type ClientHead } from "../protocol/messages.ts";
import type { Transport, TransportHandler } from "../net/transport.ts";

const tlsHandshakeRecord = 0x16;

// `FORWARD <from>\nContent-length: <n>\n\n`, the last one per sender, shared by
// every connection: a sender mostly repeats a size, and a broadcast writes the
// same header to every recipient. The bytes are shared and never mutated.
// Cleared when full; a miss only costs encoding.
const maxCachedSenders = 4096;
const forwardHeads = new Map<string, { length: number; head: Uint8Array }>();

function forwardHead(from: string, length: number): Uint8Array {
  const last = forwardHeads.get(from);
  if (last !== undefined && last.length === length) return last.head;
  if (forwardHeads.size >= maxCachedSenders) forwardHeads.clear();
  const head = encodeForwardHead(from, length);
  forwardHeads.set(from, { length, head });
  return head;
}

export class StreamConnection implements Wire, TransportHandler {
  readonly address: string;
  readonly secure: boolean;
  readonly peer: Peer;
  readonly #hub: Hub;
  readonly #transport: Transport;
  readonly #framer: Framer<ClientHead>;
  // On a plain port, whether the first byte is still to come.
  #checkFirstByte: boolean;

  constructor(transport: Transport, hub: Hub, options: { plain: boolean }) {
    this.address = transport.remoteAddress;
    this.#hub = hub;
    this.#transport = transport;
    this.#framer = new Framer(hub.limits, decodeClientHead);
    this.#checkFirstByte = options.plain;
    this.secure = !options.plain;
    this.peer = new Peer(this, hub);
  }

  onData(chunk: Uint8Array): void {
    if (this.peer.closed) return;
    this.#hub.clock.tick();
    if (this.#checkFirstByte && chunk.length > 0) {
      this.#checkFirstByte = false;
      // docs/protocol.md §7: a TLS ClientHello (0x16, which cannot start a verb) on the
      // plain port is closed at once, so a TLS client gets an error, not a 30 s wait.
      if (chunk[0] === tlsHandshakeRecord) {
        this.#hub.events.emit({ type: "connection.refused", id: this.peer.id, user: undefined, reason: ProtocolReason.TlsOnPlainPort, detail: "TLS ClientHello on the plain port" });
        this.peer.close(CloseReason.ProtocolError);
        return;
      }
    }
    let error: ProtocolError | undefined;
    try {
      error = this.#framer.push(chunk, this.peer.onMessage);
    } catch (bug) {
      // A thrown error is a bug in parley, not bad input: log it and end this connection only.
      this.#hub.events.emit({ type: "connection.bug", id: this.peer.id, error: String((bug as Error)?.stack ?? bug) });
      error = new ProtocolError(ErrorCode.HeaderIncomplete, "internal error", ProtocolReason.Internal);
    }
    if (error !== undefined) this.peer.onProtocolError(error);
  }

  onEnd(): void {
    this.peer.onEnd();
  }

  onClose(): void {
    this.peer.onClose();
  }

  onOverflow(): void {
    this.peer.onOverflow();
  }

  onFlushed(): void {
    this.peer.onFlushed();
  }

  get queuedBytes(): number {
    return this.#transport.queuedBytes;
  }

  get queuedTotal(): number {
    return this.#transport.queuedTotal;
  }

  get flushedTotal(): number {
    return this.#transport.flushedTotal;
  }

  write(message: Uint8Array): void {
    this.#transport.write(message);
  }

  writeForward(from: string, body: Uint8Array): void {
    this.#transport.write(forwardHead(from, body.length));
    if (body.length > 0) this.#transport.write(body);
  }

  pause(): void {
    this.#transport.pause();
  }

  resume(): void {
    this.#transport.resume();
  }

  end(): void {
    this.#transport.end();
  }

  drop(): void {
    this.#transport.close();
  }

}
