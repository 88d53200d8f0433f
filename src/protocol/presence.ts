// The wire forms of presence (docs/protocol.md D51-D53): the WHO request, its
// USERS answer, and the notices a watching connection is sent.

import { ascii, latin1 } from "./ascii.ts";

export const who = ascii("WHO\n\n");
export const resync = ascii("RESYNC\n\n");

/** `ONLINE alice` or `OFFLINE alice`: a notice that needs no answer. */
export function encodePresence(name: string, online: boolean): Uint8Array {
  return ascii(`${online ? "ONLINE" : "OFFLINE"} ${name}\n\n`);
}

/**
 * `USERS <total>` with as many of `names` as fit in `maxBodyBytes`, each
 * ending in a newline: the count always tells the whole, the body may not.
 */
export function encodeUsers(names: readonly string[], maxBodyBytes: number): Uint8Array {
  let body = "";
  for (const name of names) {
    if (body.length + name.length + 1 > maxBodyBytes) break;
    body += `${name}\n`;
  }
  return ascii(`USERS ${names.length}\nContent-length: ${body.length}\n\n${body}`);
}

/** The names of a USERS body. */
export function decodeUsers(body: Uint8Array): string[] {
  return latin1(body).split("\n").filter((name) => name !== "");
}
