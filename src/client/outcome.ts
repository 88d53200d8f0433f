// What became of a message sent: delivered, or failed and why, read from the
// server's reply to its SEND (docs/protocol.md §4, D50). Pure, so the terminal
// and web clients judge replies alike.

import { ErrorCode } from "../protocol/errors.ts";
import type { ServerHead } from "../protocol/messages.ts";

/** Why a message was not delivered. */
export type FailReason =
  | "unable-to-send" // ERROR 102: recipient unknown, offline, silent or refused it
  | "not-registered" // ERROR 101
  | "unreadable" // ERROR 103: the server could not read the SEND and closed; a well-formed one, so most likely too long for it
  | "rejected" // another error the server should not send to a SEND
  | "connection-lost" // the connection went away before the reply
  | "not-connected" // sent while disconnected: never written
  | "too-large" // over the server's body limit (or --max-body-bytes when it did not say): never written
  | "bad-recipient"; // not a username nor ALL: never written

export type Outcome =
  | { readonly kind: "delivered"; readonly to: string }
  /** `because`: the server's Reason, when it gave one (docs/protocol.md D50); `maxBytes`: the limit a too-large body was over. */
  | { readonly kind: "failed"; readonly to: string; readonly reason: FailReason; readonly because?: string; readonly maxBytes?: number };

export function failed(to: string, reason: FailReason): Outcome {
  return { kind: "failed", to, reason };
}

/** A body over `maxBytes`, refused before a byte of it was written (docs/protocol.md D69). */
export function tooLarge(to: string, maxBytes: number): Outcome {
  return { kind: "failed", to, reason: "too-large", maxBytes };
}

/** The outcome a reply to `SEND <to>` says; SENT also stands for the original design's `SEND <name>` (D8). */
export function replyOutcome(to: string, head: ServerHead): Outcome {
  if (head.verb === "SENT") return { kind: "delivered", to };
  if (head.verb !== "ERROR") return failed(to, "rejected");
  const reason: FailReason =
    head.code === ErrorCode.UnableToSend ? "unable-to-send" : head.code === ErrorCode.NoUserRegistered ? "not-registered" : head.code === ErrorCode.HeaderIncomplete ? "unreadable" : "rejected";
  return head.reason === undefined ? failed(to, reason) : { kind: "failed", to, reason, because: head.reason };
}
