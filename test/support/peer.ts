// A raw protocol peer over a real socket: write exact bytes, then wait (with a
// deadline, never a sleep) for exact bytes or for the close.

import type { Socket } from "bun";
import { Outbox } from "../../src/net/outbox.ts";
import { Changes } from "./changes.ts";

const encoder = new TextEncoder();
export const defaultDeadlineMs = 3000;

export type Bytes = string | Uint8Array;

export function bytes(data: Bytes): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Bytes as readable text for assertion messages. */
export function show(data: Uint8Array, max = 200): string {
  const text = new TextDecoder().decode(data.subarray(0, max));
  return JSON.stringify(text) + (data.length > max ? `...(${data.length} bytes)` : "");
}

export class Peer {
  readonly label: string;
  #socket: Socket<undefined> | undefined;
  #outbox: Outbox | undefined;
  #buffer = new Uint8Array(0);
  #closed = false;
  readonly #changes = new Changes();

  private constructor(label: string) {
    this.label = label;
  }

  static async connect(port: number, label = "peer"): Promise<Peer> {
    const peer = new Peer(label);
    peer.#socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_socket, chunk) => peer.#onData(chunk),
        drain: () => peer.#outbox?.onDrain(),
        close: () => peer.#onClose(),
        error: () => peer.#onClose(),
      },
    });
    peer.#outbox = new Outbox(peer.#socket, Number.MAX_SAFE_INTEGER, () => {});
    return peer;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet consumed by an expectation. */
  get unread(): Uint8Array {
    return this.#buffer;
  }

  send(data: Bytes): void {
    this.#outbox!.write(bytes(data));
  }

  /** Waits until the next bytes on the stream are exactly `expected`, and consumes them. */
  async receives(expected: Bytes, deadlineMs = defaultDeadlineMs): Promise<void> {
    const want = bytes(expected);
    await this.#until(() => this.#buffer.length >= want.length || this.#closed, deadlineMs, () => `${this.label}: waiting for ${show(want)}, have ${show(this.#buffer)}`);
    const got = this.#buffer.subarray(0, want.length);
    if (!Buffer.from(got).equals(Buffer.from(want))) {
      throw new Error(`${this.label}: expected ${show(want)}\n           got ${show(this.#buffer)}${this.#closed ? " (then closed)" : ""}`);
    }
    this.#buffer = this.#buffer.subarray(want.length);
  }

  /** Waits for `count` bytes of whatever arrives, and consumes them. */
  async read(count: number, deadlineMs = defaultDeadlineMs): Promise<Uint8Array> {
    await this.#until(() => this.#buffer.length >= count || this.#closed, deadlineMs, () => `${this.label}: waiting for ${count} bytes, have ${this.#buffer.length}`);
    if (this.#buffer.length < count) throw new Error(`${this.label}: closed after ${this.#buffer.length} of ${count} bytes`);
    const out = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return out;
  }

  /** Waits for the server to close the connection, with nothing unread left behind. */
  async closes(deadlineMs = defaultDeadlineMs): Promise<void> {
    await this.#until(() => this.#closed, deadlineMs, () => `${this.label}: waiting for the server to close; unread ${show(this.#buffer)}`);
    if (this.#buffer.length > 0) throw new Error(`${this.label}: closed with unread bytes ${show(this.#buffer)}`);
  }

  /** Stops reading from the socket, so the server's writes back up (a slow consumer). */
  pause(): void {
    this.#socket!.pause();
  }

  resume(): void {
    this.#socket!.resume();
  }

  close(): void {
    this.#socket?.end();
  }

  /** Half-closes: sends FIN but keeps reading. */
  shutdown(): void {
    this.#socket!.shutdown();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    this.#changes.changed();
  }

  #onClose(): void {
    this.#closed = true;
    this.#changes.changed();
  }

  #until(done: () => boolean, deadlineMs: number, describe: () => string): Promise<void> {
    return this.#changes.until(done, deadlineMs, describe);
  }
}
