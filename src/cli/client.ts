// `parley client`: its flag table, its usage errors, and the step from typed
// options to the terminal client (src/client/terminal.ts).

import { splitAddress } from "../client/input.ts";
import { jsonEvents } from "../client/scripted-output.ts";
import { isInteractive, runClient } from "../client/terminal.ts";
import { Limits } from "../protocol/limits.ts";
import { isValidUsername, maxNameLength } from "../protocol/names.ts";
import { passwordProblem, passwordProblemText } from "../protocol/password.ts";
import { readFlagFile } from "./flag-file.ts";
import { helpFlag, helpText, integer, Invalid, type Env, nonEmpty, optional, option, readFlags, toggle, UsageError, type Rule } from "./flags.ts";

const help = "parley client --help";

/** `host`, `host:port` or `[v6]:port`, as the address prompt takes it. */
const address: Rule<{ readonly host: string; readonly port: number | undefined }> = (value) => {
  const written = splitAddress(value);
  return "error" in written ? new Invalid(written.error) : written;
};

const username: Rule<string> = (value) => (isValidUsername(value) ? value : new Invalid(`expected 1 to ${maxNameLength} letters and digits (not ALL), got ${JSON.stringify(value)}`));

const bodyLimit = Limits.maxBodyBytes;

export const clientFlags = {
  host: optional("server address, host or host:port (default: asked for on a terminal, else localhost)", address),
  port: optional("server port, unless --host names one (default: 5050, or 5443 with --tls)", integer(1, 65535)),
  tls: toggle("connect over TLS"),
  tlsCa: optional("trust this CA or self-signed certificate (a PEM file) besides the system's", nonEmpty),
  tlsInsecure: toggle("TLS without checking the certificate: for testing only (warns on stderr)"),
  passwordFile: optional("your password is this file's first line (or set PARLEY_PASSWORD; never a flag's value, which ps would show)", nonEmpty),
  user: optional("your username, 1 to 32 letters and digits (default: asked for on a terminal; needed otherwise)", username),
  listen: toggle("keep receiving after input ends, until SIGINT/SIGTERM"),
  presence: toggle("show who arrives and leaves (with --json: online and offline events)"),
  json: toggle(`one JSON object per event on stdout: ${jsonEvents.join(", ")}`),
  noReconnect: toggle("exit 1 when the connection is lost, instead of reconnecting (0.5 s doubling to 10 s)"),
  maxBodyBytes: option(
    `the longest message (bytes, ${bodyLimit.min} to ${bodyLimit.max}) for a server that does not say its own limit; parley's server says it, and its limit is kept to`,
    integer(bodyLimit.min, bodyLimit.max),
    bodyLimit.default,
  ),
  compat: toggle("for servers that read one message per recv(): register TOSEND, then TORECV; one message per write, each SEND after the last one's answer; read their usual deviations"),
  help: helpFlag,
} as const;

const usage = `Usage: parley client [flags]

On a terminal: chat interactively; type "@name message" or "@ALL message".
Otherwise (stdin is a pipe or file, or --json): send each input line, print one
outcome line per message, and exit 0 if every message was delivered, 1 if not:
  printf '@bob hi\\n' | parley client --user alice --host 127.0.0.1
Exit codes: 0 all delivered; 1 something not delivered, server unreachable or
connection lost; 2 bad usage. Colours only on a terminal, never with NO_COLOR.`;

/** The client's password: --password-file's first line, else PARLEY_PASSWORD, as the bytes typed; checked against the password rule. */
function clientPassword(file: string | undefined, env: Env): Uint8Array | undefined {
  const text = file !== undefined ? (readFlagFile(file, "--password-file").split(/\r?\n/)[0] ?? "") : env.PARLEY_PASSWORD;
  if (text === undefined || text === "") return undefined;
  const password = new TextEncoder().encode(text);
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new UsageError(`${file !== undefined ? "--password-file" : "PARLEY_PASSWORD"}: ${passwordProblemText[problem]}`, help);
  return password;
}

export async function runClientCommand(args: readonly string[], env: Env): Promise<number> {
  const options = readFlags(clientFlags, args, env, help);
  if (options.help) {
    process.stdout.write(helpText(usage, clientFlags));
    return 0;
  }
  if (options.user === undefined && !isInteractive(options)) {
    throw new UsageError(options.json ? "--json needs --user NAME (or PARLEY_USER): it never asks" : "--user NAME (or PARLEY_USER) is needed when stdin is not a terminal", help);
  }
  // A port in --host wins over PARLEY_PORT and the default; one that --port contradicts is a mistake.
  const hostPort = options.host?.port;
  const portFlag = args.some((arg) => arg === "--port" || arg.startsWith("--port="));
  if (hostPort !== undefined && portFlag && options.port !== hostPort) throw new UsageError(`--host names port ${hostPort} and --port ${options.port}: give one`, help);
  if (options.compat && options.presence) throw new UsageError("--presence needs the server's extensions, which --compat does not ask for", help);
  const password = clientPassword(options.passwordFile, env);
  if (password !== undefined && options.tlsInsecure) throw new UsageError("--tls-insecure never goes with a password: anyone in between could read it", help);
  if (options.tlsInsecure) process.stderr.write("parley: warning: --tls-insecure accepts any certificate; anyone between you and the server can read and change everything\n");
  const tls = options.tls || options.tlsInsecure || options.tlsCa !== undefined;
  return runClient({
    host: options.host?.host,
    port: hostPort ?? options.port ?? (tls ? 5443 : 5050),
    password,
    tls: tls ? { ca: options.tlsCa === undefined ? undefined : readFlagFile(options.tlsCa, "--tls-ca"), insecure: options.tlsInsecure } : undefined,
    user: options.user,
    listen: options.listen,
    json: options.json,
    reconnect: !options.noReconnect,
    presence: options.presence,
    compat: options.compat,
    maxBodyBytes: options.maxBodyBytes,
    // https://no-color.org: set and not empty.
    color: (env.NO_COLOR ?? "") === "",
  });
}
