// The client's terminal: the entry point cli.ts calls, which picks the mode.
// Interactive on a terminal (interactive.ts); scripted otherwise (scripted.ts).
// Only these terminal-side files touch stdin and stdout; the session does not.

import { runInteractive } from "./interactive.ts";
import type { ClientOptions } from "./options.ts";
import { runScripted } from "./scripted.ts";

/** Interactive when stdin is a terminal, unless --json asks for events (always scripted). */
export function isInteractive(options: { readonly json: boolean }): boolean {
  return process.stdin.isTTY === true && !options.json;
}

/** Runs the client to its exit code; a scripted run needs options.user (cli.ts refuses one without as bad usage). */
export async function runClient(options: ClientOptions): Promise<number> {
  if (isInteractive(options)) return runInteractive(options);
  const { user } = options;
  if (user === undefined) throw new Error("a scripted client run needs a user");
  return runScripted({ ...options, user });
}
