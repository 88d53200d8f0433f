// The kit's raw client: one TCP connection (Bun.connect) that writes exact
// bytes, one write per send, and reads what the server writes as a lenient
// client would. Every wait ends by the step timeout, a transcript only ever
// sees a StepFailure, and at most one message's worth of bytes is held.

import type { Socket } from "bun";
import { concat, escape, toBytes, type Bytes } from "./bytes.ts";
import { StepFailure, type Journal } from "./journal.ts";
import { match, readFirstLine, type Loose } from "./matching.ts";
import { readLimits, readMessage, type Message, type Read } from "./reading.ts";
import type { Line } from "./transcript.ts";

export type Target = { readonly host: string; readonly port: number };

const maxHeld = readLimits.headerBytes + readLimits.bodyBytes;

export class WireClient implements Line {
  readonly label: string;
  readonly #timeoutMs: number;
  readonly #journal: Journal;
  #socket: Socket<undefined> | undefined;
  #buffer: Uint8Array = new Uint8Array(0);
  #unwritten: Uint8Array[] = [];
  #closed = false;
  #overflowed = false;
  #wake: (() => void)[] = [];

  private constructor(label: string, timeoutMs: number, journal: Journal) {
    this.label = label;
    this.#timeoutMs = timeoutMs;
    this.#journal = journal;
  }

  static async connect(target: Target, label: string, timeoutMs: number, journal: Journal): Promise<WireClient> {
    const client = new WireClient(label, timeoutMs, journal);
    const connecting = Bun.connect<undefined>({
      hostname: target.host,
      port: target.port,
      socket: {
        data: (_socket, chunk) => client.#onData(chunk),
        drain: () => client.#flush(),
        // The server's FIN: it will write nothing more, which is all a transcript can see of a close.
        end: () => client.#onClose(),
        close: () => client.#onClose(),
        error: () => client.#onClose(),
        connectError: () => {},
      },
    });
    const timer = Promise.withResolvers<undefined>();
    const timeout = setTimeout(() => timer.resolve(undefined), timeoutMs);
    try {
      const socket = await Promise.race([connecting, timer.promise]);
      if (socket === undefined) {
        void connecting.then((late) => late.end(), () => {});
        throw new StepFailure(`${label}: cannot connect to ${target.host}:${target.port} within ${timeoutMs} ms`);
      }
      client.#socket = socket;
      return client;
    } catch (error) {
      if (error instanceof StepFailure) throw error;
      const code = error instanceof Error && "code" in error ? String(error.code) : String(error);
      throw new StepFailure(`${label}: cannot connect to ${target.host}:${target.port}: ${code}`);
    } finally {
      clearTimeout(timeout);
    }
  }

  send(data: Bytes): void {
    if (this.#closed) return;
    const bytes = toBytes(data);
    if (countMessages(bytes) > 1) this.#journal.coalescedWrites++;
    this.#unwritten.push(bytes);
    this.#flush();
  }

  async receives(expected: Bytes, loose: Loose = {}): Promise<void> {
    const deadline = performance.now() + this.#timeoutMs;
    const wanted = toBytes(expected);
    let at = 0;
    while (at < wanted.length) {
      const want = readMessage(wanted.subarray(at), true);
      if (want.kind !== "message") throw new Error(`a transcript expects bytes that are no message: ${escape(wanted)}`);
      const rest = wanted.subarray(at);
      const got = await this.#read(want.message, rest, deadline);
      const verdict = match(want.message, got.message, loose);
      if (!verdict.ok) throw this.#failure(verdict.why === "another message" ? undefined : verdict.why, rest);
      const taken = this.#buffer.subarray(0, got.size);
      this.#journal.noteDeviations(verdict.deviations, `${this.label} received ${escape(taken)} for ${escape(wanted.subarray(at, at + want.size))}`);
      this.#buffer = this.#buffer.subarray(got.size);
      at += want.size;
    }
  }

  async closes(): Promise<void> {
    const deadline = performance.now() + this.#timeoutMs;
    while (!this.#closed && (await this.#more(deadline)));
    if (!this.#closed) throw new StepFailure(`${this.label}: the server did not close the connection within ${this.#timeoutMs} ms${this.#buffer.length > 0 ? `; received ${escape(this.#buffer)}` : ""}`, undefined, this.#buffer);
    this.settle();
  }

  /** Checks that nothing is left unread (blank lines are a deviation), and forgets it. */
  settle(): void {
    const left = this.#buffer;
    this.#buffer = new Uint8Array(0);
    if (left.every((byte) => byte === 0x0a || byte === 0x0d || byte === 0x20 || byte === 0x09)) {
      if (left.length > 0) this.#journal.noteDeviations(["blank-line"], `${this.label} received ${escape(left)} after its last message`);
      return;
    }
    throw new StepFailure(`${this.label}: unexpected bytes ${escape(left)}`, undefined, left);
  }

  close(): void {
    this.#socket?.end();
    this.#onClose();
  }

  shutdown(): void {
    if (!this.#closed) this.#socket?.shutdown();
  }

  /** The next whole message, read leniently; fails at once when its first line cannot be the one expected. */
  async #read(want: Message, rest: Uint8Array, deadline: number): Promise<Extract<Read, { kind: "message" }>> {
    for (;;) {
      if (this.#overflowed) throw new StepFailure(`${this.label}: the server wrote more than ${maxHeld} bytes nobody asked for; closed`, rest, this.#buffer);
      const read = readMessage(this.#buffer, false);
      if (read.kind === "message") return read;
      if (read.kind === "unreadable") throw this.#failure(`cannot read the server's message (${read.why})`, rest);
      if (read.firstLine !== undefined && readFirstLine(want.first, read.firstLine) === undefined) throw this.#failure(undefined, rest);
      if (!(await this.#more(deadline))) {
        const last = readMessage(this.#buffer, true);
        if (last.kind === "message") return last;
        throw this.#failure(this.#closed ? "the server closed the connection" : `no answer within ${this.#timeoutMs} ms`, rest);
      }
    }
  }

  #failure(why: string | undefined, expected: Uint8Array): StepFailure {
    const received = this.#buffer.length === 0 ? "nothing" : escape(this.#buffer);
    return new StepFailure(`${this.label}: ${why === undefined ? "" : `${why}: `}expected ${escape(expected)}, received ${received}${this.#closed && why === undefined ? " (then closed)" : ""}`, expected, this.#buffer);
  }

  /** Waits for more bytes: false once the deadline passed or the connection closed with none. */
  async #more(deadline: number): Promise<boolean> {
    const before = this.#buffer.length;
    const left = deadline - performance.now();
    if (this.#closed || left <= 0) return false;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#wake.push(resolve);
    const timer = setTimeout(resolve, left);
    await promise;
    clearTimeout(timer);
    return this.#buffer.length > before;
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (this.#buffer.length + chunk.length > maxHeld) {
      this.#overflowed = true;
      this.close();
      return;
    }
    this.#buffer = concat([this.#buffer, chunk]);
    this.#wakeAll();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwritten = [];
    this.#socket?.end();
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }

  #flush(): void {
    while (this.#socket !== undefined && !this.#closed && this.#unwritten.length > 0) {
      const head = this.#unwritten[0]!;
      const written = this.#socket.write(head);
      if (written < head.length) {
        this.#unwritten[0] = head.subarray(Math.max(written, 0));
        return;
      }
      this.#unwritten.shift();
    }
  }
}

/** How many whole messages `bytes` holds, read as the server would. */
function countMessages(bytes: Uint8Array): number {
  let count = 0;
  for (let read = readMessage(bytes, true); read.kind === "message"; read = readMessage(bytes, true)) {
    count++;
    bytes = bytes.subarray(read.size);
  }
  return count;
}
