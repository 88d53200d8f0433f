// What the command line hands the terminal client (cli.ts fills it from argv
// and the environment), and the host used when none is given.

import type { TlsClient } from "../net/tcp.ts";

export type ClientOptions = {
  /** Asked for on a terminal when missing; otherwise `localhost`. */
  readonly host: string | undefined;
  readonly port: number;
  /** Sent with REGISTER (docs/protocol.md §7). */
  readonly password: Uint8Array | undefined;
  /** Over TLS, with these trust settings. */
  readonly tls: TlsClient | undefined;
  /** Asked for on a terminal when missing; required otherwise. */
  readonly user: string | undefined;
  /** Keep receiving after input ends, until SIGINT/SIGTERM. */
  readonly listen: boolean;
  /** One JSON object per event on stdout; implies the scripted mode. */
  readonly json: boolean;
  readonly reconnect: boolean;
  /** Show who arrives and leaves (docs/protocol.md D52). */
  readonly presence: boolean;
  /** For servers that read one message per recv() (docs/protocol.md D68). */
  readonly compat: boolean;
  /** The body limit to keep to when the server does not say its own (docs/protocol.md D69). */
  readonly maxBodyBytes: number;
  /** False when NO_COLOR is set; colours also need stdout to be a terminal. */
  readonly color: boolean;
};

export const defaultHost = "localhost";
