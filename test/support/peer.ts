// The one raw protocol client of the tests, over a real socket. It writes exact
// bytes, then either waits (with a deadline, never a sleep) for exact bytes or
// the close, or, once listen()ing, hands out whole server messages as they
// arrive (the honest clients of the invariant checker). Its write queue and its
// reader are written apart from src/, so the tests do not trust the code they check.

import type { Socket } from "bun";
import { concat, toBytes as bytes, type Bytes } from "../../src/conformance/bytes.ts";
import { Changes } from "./changes.ts";

export { bytes, concat, type Bytes };

const encoder = new TextEncoder();
const maxHeader = 16 * 1024;
const maxBody = 16 * 1024 * 1024;

/** `reason`: an ERROR 102's Reason field, for a connection that asked for reasons (docs/protocol.md D50). */
export type ServerMessage = { readonly verb: string; readonly arg: string; readonly body: Uint8Array; readonly reason?: string };
/** What listen() reports: each whole message, a stream that cannot be read as server messages (a server bug), the close. */
export type Listener = { message(message: ServerMessage): void; garbled(detail: string): void; closed(): void };

/** Bytes as readable text for assertion messages. */
export function show(data: Uint8Array, max = 200): string {
  const text = new TextDecoder().decode(data.subarray(0, max));
  return JSON.stringify(text) + (data.length > max ? `...(${data.length} bytes)` : "");
}

export class Peer {
  readonly label: string;
  #socket!: Socket<undefined>;
  // Over WebSocket (docs/protocol.md D44): each whole protocol message written goes as one WebSocket message.
  #ws: WebSocket | undefined;
  #unsent: Uint8Array = new Uint8Array(0);
  #closeCode: number | undefined;
  #buffer: Uint8Array = new Uint8Array(0);
  /** Written and not yet taken by the kernel: everything written in one turn leaves in one write(). */
  #parts: Uint8Array[] = [];
  #scheduled = false;
  #blocked = false;
  #closed = false;
  #listener: Listener | undefined;
  #garbled = false;
  readonly #changes = new Changes();
  readonly #close = Promise.withResolvers<void>();
  /** Resolves when the socket closes, by either side. */
  readonly closed = this.#close.promise;

  private constructor(label: string) {
    this.label = label;
  }

  /**
   * Connects to 127.0.0.1:`port` from `from` (127.0.0.2, ...: Linux routes all
   * of 127/8 to loopback); with `ca`, over TLS trusting that certificate, and
   * resolves once the handshake is done (a TLS client's earlier writes are lost, Bun 1.4.5).
   */
  static async connect(port: number, label = "peer", from = "127.0.0.1", ca?: string): Promise<Peer> {
    const peer = new Peer(label);
    const handshake = Promise.withResolvers<void>();
    peer.#socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      // Supported by Bun 1.4.5, though its types leave it out.
      ...{ localAddress: from },
      ...(ca === undefined ? {} : { tls: { ca, serverName: "localhost" } }),
      socket: {
        handshake: (_socket, success, error) => (success ? handshake.resolve() : handshake.reject(error ?? new Error(`${label}: TLS handshake failed`))),
        data: (_socket, chunk) => peer.#onData(chunk),
        drain: () => {
          peer.#blocked = false;
          peer.#flush();
        },
        close: () => peer.#onClose(),
        error: () => peer.#onClose(),
      },
    });
    if (ca !== undefined) await handshake.promise;
    return peer;
  }

  /** Connects to a parley WebSocket URL (ws://127.0.0.1:port/ws), with extra headers (an Origin) if given; a wss:// one trusting `ca`. */
  static async connectWebSocket(url: string, label = "peer", headers: Record<string, string> = {}, ca?: string): Promise<Peer> {
    const peer = new Peer(label);
    // Bun's WebSocket takes TLS options beside the standard ones.
    const ws = new WebSocket(url, { headers, ...(ca === undefined ? {} : { tls: { ca } }) });
    ws.binaryType = "arraybuffer";
    peer.#ws = ws;
    const opened = Promise.withResolvers<void>();
    ws.onopen = () => opened.resolve();
    ws.onmessage = (event) => peer.#onData(typeof event.data === "string" ? encoder.encode(event.data) : new Uint8Array(event.data as ArrayBuffer));
    ws.onclose = (event) => {
      peer.#closeCode = event.code;
      opened.reject(new Error(`${label}: WebSocket closed with ${event.code} before it opened`));
      peer.#onClose();
    };
    await opened.promise;
    return peer;
  }

  /** The WebSocket close code the connection ended with. */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet consumed by an expectation. */
  get unread(): Uint8Array {
    return this.#buffer;
  }

  send(data: Bytes): void {
    if (this.#closed) return;
    if (this.#ws !== undefined) return this.#sendMessages(bytes(data));
    this.#parts.push(bytes(data));
    if (this.#scheduled || this.#blocked) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /** Sends `data` as one WebSocket message whatever it holds, text if a string (a hostile client's framing, docs/protocol.md D44). */
  sendWebSocketMessage(data: Bytes): void {
    if (this.#ws === undefined) throw new Error(`${this.label} is no WebSocket`);
    if (!this.#closed) this.#ws.send(data);
  }

  /** Waits until everything sent was taken by the kernel, or the socket closed. */
  async flushed(deadlineMs = 60_000): Promise<void> {
    await this.#changes.until(() => this.#parts.length === 0 || this.#closed, deadlineMs, () => `${this.label}: waiting to write ${this.#parts.length} parts`);
  }

  /** Waits until the next bytes on the stream are exactly `expected`, and consumes them; fails as soon as one differs. */
  async receives(expected: Bytes, deadlineMs = 3000): Promise<void> {
    const want = bytes(expected);
    const agrees = () => Buffer.from(this.#buffer.subarray(0, want.length)).equals(Buffer.from(want.subarray(0, this.#buffer.length)));
    await this.#changes.until(() => this.#buffer.length >= want.length || this.#closed || !agrees(), deadlineMs, () => `${this.label}: waiting for ${show(want)}, have ${show(this.#buffer)}`);
    if (this.#buffer.length < want.length || !agrees()) {
      throw new Error(`${this.label}: expected ${show(want)}\n           got ${show(this.#buffer)}${this.#closed ? " (then closed)" : ""}`);
    }
    this.#buffer = this.#buffer.subarray(want.length);
  }

  /** Waits for the server to close the connection, with nothing unread left behind. */
  async closes(deadlineMs = 3000): Promise<void> {
    await this.#changes.until(() => this.#closed, deadlineMs, () => `${this.label}: waiting for the server to close; unread ${show(this.#buffer)}`);
    if (this.#buffer.length > 0) throw new Error(`${this.label}: closed with unread bytes ${show(this.#buffer)}`);
  }

  /** From now on hands each whole server message (those already unread first) to `listener`, and the close. */
  listen(listener: Listener): void {
    this.#listener = listener;
    this.#parse();
    if (this.#closed) listener.closed();
  }

  /** Stops reading from the socket, so the server's writes back up (a slow consumer). */
  pause(): void {
    if (this.#ws !== undefined) throw new Error("a WebSocket peer cannot pause");
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** Closes now; bytes not yet written are dropped, and a listener hears nothing more. */
  /** Closes the connection and stops reading at once: over TLS, end() alone still takes what the server writes after. */
  close(): void {
    this.#listener = undefined;
    this.#ws?.close();
    this.#socket?.end();
    this.#onClose();
  }

  /** Half-closes: sends FIN but keeps reading. */
  shutdown(): void {
    // WebSocket has no half-close: the nearest is closing.
    if (this.#ws !== undefined) return this.#ws.close(1000);
    this.#socket.shutdown();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #flush(): void {
    if (this.#closed || this.#blocked || this.#parts.length === 0) return;
    const data = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = [];
    const written = this.#socket.write(data);
    if (written >= 0 && written < data.length) {
      this.#parts = [data.subarray(written)];
      this.#blocked = true;
    }
    this.#changes.changed();
  }

  /** Sends each whole protocol message in `data` (after what was left over) as one WebSocket message; keeps the rest. */
  #sendMessages(data: Uint8Array): void {
    const all = concat([this.#unsent, data]);
    const text = Buffer.from(all.buffer, all.byteOffset, all.length).toString("latin1");
    let [start, at, length, started] = [0, 0, 0, false];
    for (let lf = text.indexOf("\n"); lf >= 0; lf = text.indexOf("\n", at)) {
      const line = text.slice(at, lf).replace(/[ \t\r]+$/, "");
      at = lf + 1;
      if (line !== "") {
        started = true;
        length = Number(/^content-length:\s*([0-9]{1,15})$/i.exec(line)?.[1] ?? length);
        continue;
      }
      if (!started) continue;
      if (text.length - at < length) break;
      at += length;
      this.#ws!.send(all.subarray(start, at));
      [start, length, started] = [at, 0, false];
    }
    this.#unsent = all.subarray(start);
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed || this.#garbled) return;
    this.#buffer = concat([this.#buffer, chunk]);
    this.#parse();
    this.#changes.changed();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#parts = [];
    this.#close.resolve();
    this.#listener?.closed();
    this.#changes.changed();
  }

  /** Hands whole messages at the front of the buffer to the listener (bare-\n header blocks, docs/protocol.md §1). */
  #parse(): void {
    let at = 0;
    const buffer = Buffer.from(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.length);
    while (this.#listener !== undefined && at < buffer.length) {
      const end = buffer.indexOf("\n\n", at);
      if (end < 0) {
        if (buffer.length - at > maxHeader) return this.#garble(`header over ${maxHeader} bytes`);
        break;
      }
      const [first = "", ...fields] = buffer.toString("latin1", at, end).split("\n");
      const [verb = "", ...words] = first.split(" ");
      let length = 0;
      let reason: string | undefined;
      for (const field of fields) {
        const match = /^content-length: ?([0-9]{1,15})$/i.exec(field);
        const because = verb === "ERROR" ? /^reason: ?([a-z-]+)$/i.exec(field) : null;
        if (match === null && because === null) return this.#garble(`unexpected header line ${JSON.stringify(field)} after ${JSON.stringify(first)}`);
        if (match !== null) length = Number(match[1]);
        else reason = because![1];
      }
      if (length > maxBody) return this.#garble(`Content-length ${length}`);
      if (buffer.length - end - 2 < length) break;
      at = end + 2 + length;
      this.#listener.message({ verb, arg: words.join(" "), body: new Uint8Array(buffer.subarray(end + 2, at)), ...(reason === undefined ? {} : { reason }) });
    }
    this.#buffer = this.#buffer.subarray(at);
  }

  #garble(detail: string): void {
    this.#garbled = true;
    this.#buffer = new Uint8Array(0);
    this.#listener?.garbled(detail);
  }
}

/** Registers `role` of `name` on `peer` and waits for the server's REGISTERED. */
export async function register(peer: Peer, role: "TOSEND" | "TORECV", name: string): Promise<void> {
  peer.send(`REGISTER ${role} ${name}\n\n`);
  await peer.receives(`REGISTERED ${role} ${name}\n\n`);
}

/** A new connection holding both roles of `name`. */
export async function registered(port: number, name: string, label = name, from?: string): Promise<Peer> {
  const peer = await Peer.connect(port, label, from);
  peer.send(`REGISTER TOSEND ${name}\n\nREGISTER TORECV ${name}\n\n`);
  await peer.receives(`REGISTERED TOSEND ${name}\n\nREGISTERED TORECV ${name}\n\n`);
  return peer;
}
