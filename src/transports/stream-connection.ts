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

/** One array holding `a` then `b`. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

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
  readonly transport: "tcp" | "tls";
  readonly peer: Peer;
  readonly #hub: Hub;
  readonly #transport: Transport;
  readonly #framer: Framer<ClientHead>;
  // On a plain port, whether the first byte is still to come.
  #checkFirstByte: boolean;
  // Read while the peer could take no message: framed once it can.
  #unread: Uint8Array | undefined;

  constructor(transport: Transport, hub: Hub, options: { plain: boolean }) {
    this.address = transport.remoteAddress;
    this.#hub = hub;
    this.#transport = transport;
    this.#framer = new Framer(hub.limits, decodeClientHead);
    this.#checkFirstByte = options.plain;
    this.secure = !options.plain;
    this.transport = options.plain ? "tcp" : "tls";
    this.peer = new Peer(this, hub);
  }

  onData(chunk: Uint8Array): void {
    if (this.peer.closed) return;
    this.#hub.clock.tick();
    this.#hub.metrics.bytesIn += chunk.length;
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
    // Bytes read before the peer asked to wait come first (Bun may deliver one more chunk after a pause).
    const unread = this.#unread;
    this.#unread = undefined;
    this.#frame(unread === undefined ? chunk : concat(unread, chunk));
  }

  #frame(chunk: Uint8Array): void {
    let error: ProtocolError | undefined;
    try {
      // A peer that must wait (a registration, its rate) gets no more messages: the
      // rest of the chunk stays bytes until it is ready, a few bytes a message
      // rather than a decoded object each (docs/protocol.md D31).
      const taken = this.#framer.pushWhile(chunk, this.peer.onMessage, this.#peerReady);
      if (taken < chunk.length) this.#unread = chunk.subarray(taken);
      error = this.#framer.error;
    } catch (bug) {
      // A thrown error is a bug in parley, not bad input: log it and end this connection only.
      this.#hub.events.emit({ type: "connection.bug", id: this.peer.id, error: String((bug as Error)?.stack ?? bug) });
      error = new ProtocolError(ErrorCode.HeaderIncomplete, "internal error", ProtocolReason.Internal);
    }
    if (error !== undefined) this.peer.onProtocolError(error);
  }

  readonly #peerReady = (): boolean => this.peer.ready;

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
    this.#hub.metrics.bytesOut += message.length;
    this.#transport.write(message);
  }

  writeForward(from: string, body: Uint8Array): void {
    const head = forwardHead(from, body.length);
    this.#hub.metrics.bytesOut += head.length + body.length;
    this.#transport.write(head);
    if (body.length > 0) this.#transport.write(body);
  }

  pause(): void {
    this.#transport.pause();
  }

  /** The peer is ready again: first what was read and kept, then the socket. */
  resume(): void {
    const unread = this.#unread;
    this.#unread = undefined;
    if (unread !== undefined) this.#frame(unread);
    if (this.#unread === undefined && this.peer.ready) this.#transport.resume();
  }

  end(): void {
    this.#transport.end();
  }

  drop(): void {
    this.#transport.close();
  }

}
