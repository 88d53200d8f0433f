// The password rule of docs/protocol.md §7 "Accounts": the Password field's
// raw bytes, valid UTF-8, 1 to 1024 bytes, no control characters, and no
// space or tab at either end. Server, `accounts` command and clients apply
// this one rule and hash the same bytes.

export const maxPasswordBytes = 1024;

export type PasswordProblem = "empty" | "too-long" | "not-utf8" | "control-character" | "edge-space";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function passwordProblem(bytes: Uint8Array): PasswordProblem | undefined {
  if (bytes.length === 0) return "empty";
  if (bytes.length > maxPasswordBytes) return "too-long";
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return "not-utf8";
  }
  // Unicode's control characters (Cc): C0, DEL and C1.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return "control-character";
  if (/^[ \t]|[ \t]$/.test(text)) return "edge-space";
  return undefined;
}

/** The problem in words, for one line on a terminal. */
export const passwordProblemText: { readonly [P in PasswordProblem]: string } = {
  empty: "a password cannot be empty",
  "too-long": `a password is at most ${maxPasswordBytes} bytes of UTF-8`,
  "not-utf8": "a password must be valid UTF-8",
  "control-character": "a password cannot contain control characters",
  "edge-space": "a password cannot start or end with a space or tab",
};

/**
 * docs/protocol.md D40: this machine, by name or address (localhost,
 * 127.0.0.0/8, ::1), the only place a client sends a password in clear.
 */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
