// Who may hold a name (docs/protocol.md §7 "Accounts"), as the core asks it.
// Checking a password is slow and async (a salted slow hash), so the answer is
// a promise; the registration waits for it in its place (docs/protocol.md D14).

/** ok: go on to claim the name; refused: ERROR 105; busy: ERROR 106 (too many checks waiting). */
export type Authorization = "ok" | "refused" | "busy";

export interface Authority {
  /** Whether `address` may register a role of `name`, with `password` (raw bytes, already checked against the password rule). */
  authorize(name: string, password: Uint8Array | undefined, address: string): Promise<Authorization>;
}

/** Without accounts: every name is free to whoever claims it first, and a password is ignored. */
export const openAuthority: Authority = { authorize: () => Promise.resolve("ok") };
