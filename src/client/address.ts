// The server's address as the client shows it: in the address prompt, in
// status lines, and in the text of a failed connect.

import type { Address } from "./input.ts";
import type { ConnectError } from "./registration.ts";
import { connectErrorText } from "./render.ts";

/** `host:port`, or `[v6]:port` so the port stays readable after an IPv6 address. */
export function describeAddress(address: Address): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function connectFailure(error: ConnectError, address: Address, user: string): string {
  return connectErrorText(error, describeAddress(address), user);
}
