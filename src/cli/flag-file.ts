// The text of a file a flag names (a certificate, a key, a password file):
// when it cannot be read, one line naming the flag, the path and why.

import { readFileSync } from "node:fs";

export function readFlagFile(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`${flag} ${path}: ${error instanceof Error && "code" in error ? error.code : String(error)}`);
  }
}
