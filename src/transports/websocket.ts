// The core's Wire over one Bun ServerWebSocket (docs/protocol.md D44-D48):
// each WebSocket message carries exactly one protocol message, both roles
// live on the one connection, and parley keeps its own queue in front of
// ws.send(), because Bun drops (returns 0) what is over its backpressure limit.

import type { ServerWebSocket } from "bun";
import type { Hub, Wire } from "../core/hub.ts";
import { Peer } from "../core/peer.ts";
import { closeGraceMs } from "../net/outbox.ts";
import { ErrorCode, ProtocolError, ProtocolReason } from "../protocol/errors.ts";
import { Framer } from "../protocol/framer.ts";
import { decodeClientHead, encodeForwardHead, type ClientHead } from "../protocol/messages.ts";

/** WebSocket close codes parley uses (RFC 6455 §7.4.1); 1009 (too big) Bun sends by itself. */
export const CloseCode = { Normal: 1000, ProtocolError: 1002, TryAgainLater: 1013 } as const;

/** What the listener attaches to each socket at upgrade; `connection` is set in `open`. */
export type WebSocketData = { readonly address: string; readonly secure: boolean; connection?: WebSocketConnection };

const encoder = new TextEncoder();

export class WebSocketConnection implements Wire {
  readonly address: string;
  readonly secure: boolean;
  readonly transport: "ws" | "wss";
  readonly peer: Peer;
  readonly #ws: ServerWebSocket<WebSocketData>;
  readonly #hub: Hub;
  readonly #framer: Framer<ClientHead>;
  // Messages Bun has not taken yet (it returned 0, or an earlier one waits).
  #queue: Uint8Array[] = [];
  #waitingBytes = 0;
  // Bytes Bun took into its own buffer (send returned -1): handed over at the next drain.
  #inBun = 0;
  #queuedTotal = 0;
  #flushedTotal = 0;
  #blocked = false;
  #ending = false;
  #closed = false;
  #flushNoticeScheduled = false;
  #turnScheduled = false;
  #flushing = false;
  #closeCode: number = CloseCode.Normal;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ws: ServerWebSocket<WebSocketData>, hub: Hub) {
    this.#ws = ws;
    this.#hub = hub;
    this.address = ws.data.address;
    this.secure = ws.data.secure;
    this.transport = this.secure ? "wss" : "ws";
    this.#framer = new Framer(hub.limits, decodeClientHead);
    // The Peer ends the connection inside its constructor only when a
    // connection cap refused it (ERROR 106): that close is 1013 (D46).
    this.#closeCode = CloseCode.TryAgainLater;
    this.peer = new Peer(this, hub);
    if (!this.peer.closed) this.#closeCode = CloseCode.Normal;
  }

  /** One WebSocket message: exactly one whole protocol message, else ERROR 103 and close 1002 (D44). */
  onMessage(message: string | Uint8Array): void {
    if (this.peer.closed) return;
    this.#hub.clock.tick();
    const bytes = typeof message === "string" ? encoder.encode(message) : message;
    this.#hub.metrics.bytesIn += bytes.length;
    let frame: [ClientHead, Uint8Array, number] | undefined;
    let frames = 0;
    let error: ProtocolError | undefined;
    try {
      error = this.#framer.push(bytes, (head, body, headBytes) => {
        frames++;
        frame = [head, body, headBytes];
      });
    } catch (bug) {
      this.#hub.events.emit({ type: "connection.bug", id: this.peer.id, error: String((bug as Error)?.stack ?? bug) });
      error = new ProtocolError(ErrorCode.HeaderIncomplete, "internal error", ProtocolReason.Internal);
    }
    if (error === undefined && (frames !== 1 || !this.#framer.atBoundary)) {
      const what = frames === 0 ? "no whole message" : frames > 1 ? `${frames} messages` : "a message and part of another";
      error = new ProtocolError(ErrorCode.HeaderIncomplete, `${what} in one WebSocket message`, ProtocolReason.NotOneMessage);
    }
    if (error !== undefined) {
      this.#closeCode = CloseCode.ProtocolError;
      this.peer.onProtocolError(error);
      return;
    }
    const [head, body, headBytes] = frame!;
    // The body is a view of Bun's message buffer (the message is whole, so the
    // framer never copied it), which Bun does not promise outlives this
    // handler, and the core may hold the body for a while. Copied outright:
    // asking a view for its .buffer cost more than the copy (~11% of the server).
    this.peer.onMessage(head, body.slice(), headBytes);
  }

  onDrain(): void {
    if (this.#closed) return;
    this.#blocked = false;
    this.#handedOver(this.#inBun);
    this.#inBun = 0;
    this.#flushTurn();
  }

  /** Hands Bun what waits, in one corked write, until it is all taken or Bun pushes back. */
  readonly #flushTurn = (): void => {
    this.#turnScheduled = false;
    // Bun may run drain inside the cork: that pass is this one.
    if (this.#closed || this.#flushing) return;
    this.#flushing = true;
    try {
      while (!this.#blocked && this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        let taken = 0;
        this.#ws.cork(() => {
          for (; taken < batch.length && !this.#blocked; taken++) {
            if (!this.#send(batch[taken]!)) break;
            this.#waitingBytes -= batch[taken]!.length;
          }
        });
        // What Bun did not take goes back in front of anything written meanwhile.
        if (taken < batch.length) this.#queue = batch.slice(taken).concat(this.#queue);
      }
    } finally {
      this.#flushing = false;
    }
    this.#endIfFlushed();
  };

  onClose(): void {
    this.#release();
    // Absent only while the Peer's constructor is still running.
    (this.peer as Peer | undefined)?.onClose();
  }

  get queuedBytes(): number {
    return this.#waitingBytes + this.#inBun;
  }

  get queuedTotal(): number {
    return this.#queuedTotal;
  }

  get flushedTotal(): number {
    return this.#flushedTotal;
  }

  write(message: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    this.#queuedTotal += message.length;
    this.#hub.metrics.bytesOut += message.length;
    this.#queue.push(message);
    this.#waitingBytes += message.length;
    // Each ws.send() outside a cork is a write() of its own, and Bun runs
    // microtasks between message callbacks: so what a whole turn of the event
    // loop wrote goes out corked together, at its end.
    if (!this.#blocked && !this.#turnScheduled) {
      this.#turnScheduled = true;
      setImmediate(this.#flushTurn);
    }
    // A slow consumer: the Peer closes (and drops) it, naming why.
    if (this.queuedBytes > this.#hub.limits.maxQueuedBytes) {
      this.peer.onOverflow();
      this.drop();
    }
  }

  /** A FORWARD is one WebSocket message: its header and body side by side (D44). */
  writeForward(from: string, body: Uint8Array): void {
    const head = encodeForwardHead(from, body.length);
    const message = new Uint8Array(head.length + body.length);
    message.set(head);
    message.set(body, head.length);
    this.write(message);
  }

  pause(): void {
    if (!this.#closed) this.#ws.pause();
  }

  resume(): void {
    if (!this.#closed) this.#ws.resume();
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    // A peer that does not take the last bytes must not hold the connection open.
    this.#graceTimer = setTimeout(() => this.#closeNow(), closeGraceMs);
    // Not inside the Peer's call: Bun runs the close handler within ws.close().
    queueMicrotask(() => this.#endIfFlushed());
  }

  drop(): void {
    if (this.#closed) return;
    this.#release();
    this.#ws.terminate();
  }

  /** Hands one message to Bun; false when Bun dropped it (it must wait for drain). */
  #send(message: Uint8Array): boolean {
    const sent = this.#ws.send(message);
    if (sent > 0) {
      this.#handedOver(message.length);
      return true;
    }
    this.#blocked = true;
    if (sent === 0) return false;
    // -1: Bun holds it and will say so with drain; parley queues the rest itself.
    this.#inBun += message.length;
    return true;
  }

  /** Advances flushedTotal; the Peer hears of it once per turn (it may write more in answer). */
  #handedOver(bytes: number): void {
    if (bytes === 0) return;
    this.#flushedTotal += bytes;
    if (this.#flushNoticeScheduled) return;
    this.#flushNoticeScheduled = true;
    queueMicrotask(() => {
      this.#flushNoticeScheduled = false;
      if (!this.#closed) this.peer.onFlushed();
    });
  }

  #endIfFlushed(): void {
    if (this.#ending && !this.#closed && this.queuedBytes === 0) this.#closeNow();
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#release();
    this.#ws.close(this.#closeCode);
  }

  #release(): void {
    this.#closed = true;
    this.#queue = [];
    this.#waitingBytes = 0;
    this.#inBun = 0;
    clearTimeout(this.#graceTimer);
  }
}
