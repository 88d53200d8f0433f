// What a typed line means: a message (`@bob hello`, `@ALL hi`), a command
// (`/help`, `/quit`), nothing (an empty line), or a mistake with a one-line
// hint. Pure: no terminal, no socket.

import { BROADCAST, isBroadcast, isValidUsername, maxNameLength } from "../protocol/names.ts";

export type Command =
  | { readonly kind: "message"; readonly to: string; readonly text: string; readonly body: Uint8Array }
  | { readonly kind: "help" }
  | { readonly kind: "who" }
  | { readonly kind: "quit" }
  | { readonly kind: "empty" }
  | { readonly kind: "invalid"; readonly hint: string };

const encoder = new TextEncoder();

export const usageHint = `write "@name message" or "@${BROADCAST} message"; /help for more`;

export const helpLines: readonly string[] = [
  "@name message   send a message to one user, e.g. @bob hello",
  `@${BROADCAST} message    send a message to everyone online`,
  "/who            list who is online",
  "/help           show this help",
  "/quit           leave (so does Ctrl-D)",
];

function invalid(hint: string): Command {
  return { kind: "invalid", hint };
}

/** One line as typed, without its line ending. */
export function parseLine(line: string): Command {
  const trimmed = line.trim();
  if (trimmed.length === 0) return { kind: "empty" };
  if (trimmed.startsWith("/")) {
    const command = trimmed.split(/\s+/, 1)[0]!;
    if (command === "/help" || command === "/?") return { kind: "help" };
    if (command === "/quit" || command === "/exit") return { kind: "quit" };
    if (command === "/who") return { kind: "who" };
    return invalid(`unknown command ${quote(command)}; commands are /who, /help and /quit`);
  }
  const start = line.indexOf("@");
  if (!trimmed.startsWith("@")) return invalid(usageHint);
  const rest = line.slice(start + 1);
  const space = rest.search(/[ \t]/);
  const written = space < 0 ? rest : rest.slice(0, space);
  // docs/protocol.md §6: @all in any case is everyone.
  const to = isBroadcast(written) ? BROADCAST : written;
  // One separator is taken; the message is everything after it, spaces included.
  const text = space < 0 ? "" : rest.slice(space + 1);
  if (to.length === 0) return invalid(`a name must follow "@"; ${usageHint}`);
  if (to !== BROADCAST && !isValidUsername(to)) {
    return invalid(`${quote(to)} is not a username (1 to ${maxNameLength} letters and digits)`);
  }
  if (text.trim().length === 0) return invalid(`nothing to send; write the message after the name: @${to} hello`);
  // docs/protocol.md §1: Content-length counts bytes, so the body is the UTF-8 encoding.
  return { kind: "message", to, text, body: encoder.encode(text) };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

export type Address = { readonly host: string; readonly port: number };

/** An address as written: its host, and its port when it names one. */
export type WrittenAddress = { readonly host: string; readonly port: number | undefined };

/**
 * `host`, `host:port`, `[v6]:port` or a bare IPv6 address, as given to --host
 * or typed at the address prompt. A bare IPv6 address has at least two colons,
 * so `host:` or `:23999` is never taken for one.
 */
export function splitAddress(text: string): WrittenAddress | { readonly error: string } {
  const trimmed = text.trim();
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+))(?::([0-9]{1,5}))?$/.exec(trimmed) ?? /^((?:[0-9A-Fa-f]*:){2,}[0-9A-Fa-f.]*)()()$/.exec(trimmed);
  if (match === null) return { error: `${quote(trimmed)} is not an address; write a host name or host:port, e.g. localhost:5050` };
  const host = match[1] || match[2]!;
  const port = match[3] === undefined || match[3] === "" ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return { error: `port ${port} is out of range (1 to 65535)` };
  return { host, port };
}

/** An answer at the address prompt: empty means `fallback`, `:port` its host with that port. */
export function parseAddress(text: string, fallback: Address): Address | { readonly error: string } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return fallback;
  const portOnly = /^:[0-9]+$/.test(trimmed);
  const written = splitAddress(portOnly ? `${fallback.host.includes(":") ? `[${fallback.host}]` : fallback.host}${trimmed}` : trimmed);
  if ("error" in written) return written;
  return { host: written.host, port: written.port ?? fallback.port };
}
