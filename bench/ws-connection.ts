// A generator connection that is a WebSocket: a TCP connection upgraded at
// /ws, whose frames are read off before its users see the bytes and whose
// messages they frame before writing (bench/ws-frames.ts). The load above it
// is the TCP load's, message for message.

import { Client, connect } from "./connection.ts";
import { die, type GeneratorConfig } from "./load.ts";
import { FrameReader, Opcode, checkUpgradeResponse, maskedFrame, upgradeRequest } from "./ws-frames.ts";

/** How much of an upgrade response the client reads before it calls it broken. */
const maxResponseHeadBytes = 8192;

class WebSocketClient extends Client {
  readonly upgraded = Promise.withResolvers<void>();
  #head = "";
  #open = false;
  readonly #reader = new FrameReader(
    (bytes) => this.onBytes(bytes),
    (opcode, payload) => this.#onControl(opcode, payload),
  );

  override receive(chunk: Uint8Array): void {
    if (this.#open) {
      const error = this.#reader.push(chunk);
      if (error !== undefined) die(error);
      return;
    }
    this.#head += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString("latin1");
    const end = this.#head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.#head.length > maxResponseHeadBytes) die("the upgrade response has no end");
      return;
    }
    const error = checkUpgradeResponse(this.#head.slice(0, end + 2));
    if (error !== undefined) die(error);
    this.#open = true;
    // The server says nothing before its first answer, but a frame right behind the head is read all the same.
    const rest = chunk.subarray(chunk.length - (this.#head.length - end - 4));
    this.#head = "";
    this.upgraded.resolve();
    if (rest.length > 0) this.receive(rest);
  }

  override frame(message: Uint8Array): Uint8Array {
    return maskedFrame(message);
  }

  #onControl(opcode: number, payload: Uint8Array): void {
    // Bun pings a socket that was quiet for a while (docs/protocol.md D48): a client that does not answer is closed.
    if (opcode === Opcode.Ping) this.write(maskedFrame(payload.slice(), Opcode.Pong));
    else if (opcode === Opcode.Close && !this.expectClose) die("the server closed a WebSocket");
  }
}

/** A WebSocket to `port`'s /ws, resolved once the server switched protocols. */
export async function connectWebSocket(port: number): Promise<Client> {
  const client = new WebSocketClient();
  await connect(port, undefined, undefined, client);
  client.write(upgradeRequest(port));
  await client.upgraded.promise;
  return client;
}

/** The connection a generator's config asks for: a WebSocket, or TCP (with TLS if it has a certificate). */
export function connectFor(config: Pick<GeneratorConfig, "port" | "tls" | "websocket">, localAddress?: string): Promise<Client> {
  return config.websocket ? connectWebSocket(config.port) : connect(config.port, config.tls, localAddress);
}
