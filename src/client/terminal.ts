// The client's terminal: the entry point cli.ts calls, which picks the mode.
// Interactive on a terminal (interactive.ts); scripted otherwise (scripted.ts).
// Only these terminal-side files touch stdin and stdout; the session does not.

import { runInteractive } from "./interactive.ts";
import type { ClientOptions } from "./options.ts";
import { runScripted } from "./scripted.ts";

export async function runClient(options: ClientOptions): Promise<number> {
  if (process.stdin.isTTY === true && !options.json) return runInteractive(options);
  return runScripted(options);
}
