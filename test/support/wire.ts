// A minimal client-side wire for test clients, written apart from src/ so the
// checker does not trust the code it checks: a write queue that honours Bun's
// partial writes, and a reader of what the server writes (bare-\n header
// blocks, PROTOCOL.md §1) that hands out whole messages.

import type { Socket } from "bun";

export type ServerMessage = { readonly verb: string; readonly arg: string; readonly body: Uint8Array };

export type WireHandlers = {
  message(message: ServerMessage): void;
  /** The stream could not be read as server messages: a server bug. */
  garbled(detail: string): void;
  closed(): void;
};

const maxHeader = 16 * 1024;
const maxBody = 16 * 1024 * 1024;

/** Incremental reader of server output. */
export class ServerReader {
  #buffer = new Uint8Array(0);
  #failed = false;

  push(chunk: Uint8Array, onMessage: (message: ServerMessage) => void): string | undefined {
    if (this.#failed) return undefined;
    let buffer = chunk;
    if (this.#buffer.length > 0) {
      buffer = new Uint8Array(this.#buffer.length + chunk.length);
      buffer.set(this.#buffer);
      buffer.set(chunk, this.#buffer.length);
    }
    let at = 0;
    while (at < buffer.length) {
      const end = indexOfBlank(buffer, at);
      if (end < 0) {
        if (buffer.length - at > maxHeader) return this.#fail(`header over ${maxHeader} bytes`);
        break;
      }
      const lines = latin1(buffer.subarray(at, end)).split("\n");
      const first = lines[0]!;
      const space = first.indexOf(" ");
      const verb = space < 0 ? first : first.slice(0, space);
      const arg = space < 0 ? "" : first.slice(space + 1);
      let length = 0;
      for (const line of lines.slice(1)) {
        const match = /^content-length: ?([0-9]{1,15})$/i.exec(line);
        if (match) length = Number(match[1]);
        else return this.#fail(`unexpected header line ${JSON.stringify(line)} after ${JSON.stringify(first)}`);
      }
      if (length > maxBody) return this.#fail(`Content-length ${length}`);
      const bodyStart = end + 2;
      if (buffer.length - bodyStart < length) break;
      onMessage({ verb, arg, body: buffer.slice(bodyStart, bodyStart + length) });
      at = bodyStart + length;
    }
    this.#buffer = at === 0 && buffer === chunk ? chunk.slice() : buffer.slice(at);
    return undefined;
  }

  #fail(detail: string): string {
    this.#failed = true;
    this.#buffer = new Uint8Array(0);
    return detail;
  }
}

/** A socket with a write queue: everything written in one turn leaves in one write(). */
export class Wire {
  readonly #socket: Socket<undefined>;
  #parts: Uint8Array[] = [];
  #blocked = false;
  #scheduled = false;
  #closed = false;

  private constructor(socket: Socket<undefined>) {
    this.#socket = socket;
  }

  static async open(port: number, handlers: WireHandlers): Promise<Wire> {
    const reader = new ServerReader();
    let wire: Wire | undefined;
    const closed = () => {
      if (wire === undefined || wire.#closed) return;
      wire.#closed = true;
      wire.#parts = [];
      handlers.closed();
    };
    const socket = await Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_socket, chunk) {
          if (wire !== undefined && wire.#closed) return;
          const error = reader.push(chunk, handlers.message);
          if (error !== undefined) handlers.garbled(error);
        },
        drain() {
          if (wire === undefined) return;
          wire.#blocked = false;
          wire.#flush();
        },
        close: closed,
        error: closed,
      },
    });
    wire = new Wire(socket);
    return wire;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#parts.push(bytes);
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    if (this.#closed || this.#blocked || this.#parts.length === 0) return;
    const data = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.#parts = [];
    const written = this.#socket.write(data);
    if (written < 0) return;
    if (written < data.length) {
      this.#parts = [data.subarray(written)];
      this.#blocked = true;
    }
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** Closes now; unwritten bytes are dropped. The `closed` handler still runs. */
  close(): void {
    this.#socket.end();
  }
}

function indexOfBlank(bytes: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(0x0a, from); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0x0a, i + 1)) {
    if (bytes[i + 1] === 0x0a) return i;
  }
  return -1;
}

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return out;
}
