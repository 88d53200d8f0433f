// What the server's answer to a REGISTER means to a client: the role is held,
// or why not. Pure, so the terminal and web clients read answers alike.

import { ErrorCode } from "../protocol/errors.ts";
import type { Role, ServerHead } from "../protocol/messages.ts";
import { sameName } from "../protocol/names.ts";

export type ConnectError =
  | { readonly kind: "unreachable"; readonly detail: string }
  | { readonly kind: "malformed-name" }
  | { readonly kind: "name-taken" }
  | { readonly kind: "not-authorized" }
  | { readonly kind: "refused"; readonly detail: string };

/** undefined when `head` grants `role` of `user`; otherwise why not. */
export function registerAnswer(head: ServerHead, role: Role, user: string): ConnectError | undefined {
  if (head.verb === "REGISTERED" && head.role === role && sameName(head.name, user)) return undefined;
  if (head.verb === "ERROR" && head.code === ErrorCode.MalformedUsername) return { kind: "malformed-name" };
  if (head.verb === "ERROR" && head.code === ErrorCode.UsernameTaken) return { kind: "name-taken" };
  if (head.verb === "ERROR" && head.code === ErrorCode.NotAuthorized) return { kind: "not-authorized" };
  const what = head.verb === "ERROR" ? `ERROR ${head.code} ${head.text}` : head.verb;
  return { kind: "refused", detail: `unexpected answer to REGISTER: ${what}` };
}
