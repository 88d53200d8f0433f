// One WebSocket to the server as the web client uses it (docs/protocol.md
// D44): each protocol message goes as one WebSocket message, what arrives is
// framed, and replies are matched to requests by counting, since the server
// answers every request on a connection in order (D14).

import { Framer } from "../protocol/framer.ts";
import { defaultLimits, type FramerLimits } from "../protocol/limits.ts";
import { decodeServerHead, type ServerHead } from "../protocol/messages.ts";

/** Someone waiting for the reply to one request. */
export type Request = {
  /** `body` is the reply's own copy (a USERS list). */
  readonly answer: (head: ServerHead, body: Uint8Array) => void;
  /** The connection went before the reply came. */
  readonly lose: () => void;
};

export type ConnectionHandlers = {
  /** A message that answers no request: FORWARD, and the presence notices. */
  onNotice(connection: Connection, head: ServerHead, body: Uint8Array): void;
  /** Closed, by either side; called once, after every open request was lost. */
  onClose(connection: Connection, reason: string): void;
};

// A server may allow bodies larger than its default; reading them costs the page nothing.
const limits: FramerLimits = { maxHeaderBytes: defaultLimits.maxHeaderBytes, maxBodyBytes: 16 * 1024 * 1024 };

/** Replies are the answers to requests; FORWARDs and presence notices (docs/protocol.md D52) are not. */
function isReply(head: ServerHead): boolean {
  return head.verb === "REGISTERED" || head.verb === "SENT" || head.verb === "ERROR" || head.verb === "USERS";
}

export class Connection {
  readonly #socket: WebSocket;
  readonly #framer = new Framer(limits, decodeServerHead);
  readonly #handlers: ConnectionHandlers;
  #requests: Request[] = [];
  #closed = false;
  readonly #opened = Promise.withResolvers<string | undefined>();

  constructor(url: string, handlers: ConnectionHandlers) {
    this.#handlers = handlers;
    this.#socket = new WebSocket(url);
    this.#socket.binaryType = "arraybuffer";
    this.#socket.onopen = () => this.#opened.resolve(undefined);
    this.#socket.onmessage = (event: MessageEvent) => this.#onMessage(event.data);
    // A failed WebSocket says nothing about why (browsers hide it from pages); the close that follows ends it.
    this.#socket.onclose = (event: CloseEvent) => this.#onClose(closeReason(event));
  }

  /** Resolves once the socket is open (undefined) or could not be opened (why). */
  opened(): Promise<string | undefined> {
    return this.#opened.promise;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes one message that the server answers; `request` hears the answer. */
  request(message: Uint8Array, request: Request): void {
    if (this.#closed) return request.lose();
    this.#requests.push(request);
    this.#send(message);
  }

  /** Writes one message that has no answer (RECEIVED). */
  write(message: Uint8Array): void {
    if (!this.#closed) this.#send(message);
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.close(1000);
    this.#onClose("closed by you");
  }

  #send(message: Uint8Array): void {
    // The encoders' bytes live in plain ArrayBuffers, which the DOM's types ask for by name.
    this.#socket.send(message as Uint8Array<ArrayBuffer>);
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data as ArrayBuffer);
    const error = this.#framer.push(bytes, (head, body) => {
      if (this.#closed) return;
      if (!isReply(head)) return this.#handlers.onNotice(this, head, body);
      // docs/protocol.md §4: a reply with nothing outstanding is ignored.
      this.#requests.shift()?.answer(head, body);
    });
    if (error === undefined) return;
    // The stream cannot be read any further: the connection goes (and the session reconnects).
    this.#socket.close(1002);
    this.#onClose(`unreadable data from the server (${error.detail})`);
  }

  #onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opened.resolve(reason);
    const requests = this.#requests;
    this.#requests = [];
    for (const request of requests) request.lose();
    this.#handlers.onClose(this, reason);
  }
}

/** docs/protocol.md D46: what the server's close code says about why it closed. */
function closeReason(event: CloseEvent): string {
  switch (event.code) {
    case 1000:
      return "the server closed the connection";
    case 1002:
      return "the server could not read what this page sent";
    case 1009:
      return "a message was too long for the server";
    case 1013:
      return "the server is busy";
    default:
      return "the connection was lost";
  }
}
