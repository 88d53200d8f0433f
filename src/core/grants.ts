// The extensions a connection was granted (docs/protocol.md §7, D49) and the
// answers they shape: the fields of its REGISTERED, and a Reason on its
// ERROR 102s (D50). A connection that never asks sees version 1, byte for byte.

import { ErrorCode, encodeError, encodeErrorWithReason } from "../protocol/errors.ts";
import { encodeRegistered, type Role } from "../protocol/messages.ts";
import { failureReason, type FailReason } from "./reasons.ts";
import type { ReplyQueue } from "./replies.ts";

const unableToSend = encodeError(ErrorCode.UnableToSend);
/** What this server can grant (docs/protocol.md §7). */
const knownExtensions: ReadonlySet<string> = new Set(["reasons", "presence"]);

export class Grants {
  readonly #replies: ReplyQueue;
  readonly #maxBodyBytes: number;
  // Undefined until the connection asks (docs/protocol.md D49).
  #extensions: string[] | undefined;
  // `REGISTERED <role> <name>`, encoded once per role: a pipeline of repeated REGISTERs holds one array, not one each.
  #registered: { [R in Role]?: Uint8Array } = {};

  /** `replies` carries the `reasons` grant to the answers of the SENDs it holds. */
  constructor(replies: ReplyQueue, maxBodyBytes: number) {
    this.#replies = replies;
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** docs/protocol.md D51, D52: WHO, and notices of arrivals and departures. */
  get presence(): boolean {
    return this.#extensions?.includes("presence") ?? false;
  }

  /** docs/protocol.md D49: grants what the server knows of what the client asked for; never anything it did not ask for. */
  negotiate(asked: readonly string[]): void {
    const granted = new Set([...(this.#extensions ?? []), ...asked.filter((name) => knownExtensions.has(name))]);
    this.#extensions = [...granted];
    this.#replies.reasons = granted.has("reasons");
    this.#registered = {};
  }

  /** The answer to a REGISTER of `role` the connection holds as `name`. */
  registered(role: Role, name: string): Uint8Array {
    const cached = this.#registered[role];
    if (cached !== undefined) return cached;
    // docs/protocol.md D49: a client that asked for extensions is told which it has, and the limits it should know.
    const fields = this.#extensions === undefined ? undefined : { Extensions: this.#extensions.join(", "), "Max-Body-Bytes": this.#maxBodyBytes };
    return (this.#registered[role] = encodeRegistered(role, name, fields));
  }

  /** ERROR 102, with its reason for a client that asked for reasons (D50). */
  unableToSend(reason: FailReason): Uint8Array {
    return this.#replies.reasons ? encodeErrorWithReason(ErrorCode.UnableToSend, failureReason[reason]) : unableToSend;
  }
}
