// The steps of a REGISTER that do not depend on the connection's own state
// (docs/protocol.md §3, §6, §7): whether a password may be looked at, asking
// the authority and then the directory, and what a refusal answers.

import { ErrorCode, encodeError } from "../protocol/errors.ts";
import type { Role } from "../protocol/messages.ts";
import { passwordProblem } from "../protocol/password.ts";
import { inRanges } from "./address.ts";
import type { ClaimRefusal, User } from "./directory.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Hub } from "./hub.ts";

/** How a claim ended: the user, or why not (the directory's refusals, or the authority's). */
export type ClaimOutcome = User | ClaimRefusal | "refused" | "busy";
export type Refusal = Exclude<ClaimOutcome, User>;

const usernameTaken = encodeError(ErrorCode.UsernameTaken);
const serverBusy = encodeError(ErrorCode.ServerBusy);
const notAuthorized = encodeError(ErrorCode.NotAuthorized);

/** What each refusal answers: taken is ERROR 104; a cap, ERROR 106; the authority's no, ERROR 105 (the connection stays open for another try). */
export const refusalAnswer: { readonly [R in Refusal]: Uint8Array } = {
  taken: usernameTaken,
  "address-full": serverBusy,
  unavailable: serverBusy,
  busy: serverBusy,
  refused: notAuthorized,
};

/** The longest answer a pending registration may turn out to be besides REGISTERED, counted against the write cap. */
export const longestRefusal = Math.max(...Object.values(refusalAnswer).map((bytes) => bytes.length));

/** docs/protocol.md §7: a password only over TLS or from an address trusted with it, and only a well-formed one. */
export function unfitPassword(hub: Hub, secure: boolean, address: string, password: Uint8Array): "plaintext" | "malformed" | undefined {
  if (!secure && !inRanges(address, hub.trustPlaintext)) return "plaintext";
  return passwordProblem(password) === undefined ? undefined : "malformed";
}

/** Asks the authority, then (unless the connection went meanwhile) the directory. */
export async function authorizeAndClaim(
  hub: Hub,
  endpoint: Endpoint & { readonly closed: boolean },
  role: Role,
  name: string,
  password: Uint8Array | undefined,
): Promise<ClaimOutcome> {
  const authorized = await hub.authority.authorize(name, password, endpoint.address);
  if (authorized !== "ok") return authorized;
  return endpoint.closed ? "taken" : hub.directory.claim(name, role, endpoint);
}
