// The commands: one flag table each for `parley server` and `parley client`,
// and the dispatch from argv to them. argv and env come in from src/cli.ts,
// the only reader of process.argv and process.env.

import { readFileSync } from "node:fs";
import { parseRange, type AddressRange } from "../core/address.ts";
import { Limits, type LimitValues } from "../protocol/limits.ts";
import { LogLevels, type EventSink } from "../core/events.ts";
import type { ClusterNode } from "../cluster/node.ts";
import { loopback } from "../core/hub.ts";
import { createLogger, LogFormats } from "../core/log.ts";
import { FileAuthority } from "../accounts/authority.ts";
import { runAccounts } from "./accounts.ts";
import { runConformance } from "./conformance.ts";
import { runClientCommand } from "./client.ts";
import { readFlagFile } from "./flag-file.ts";
import { ListenError, startServer, type RunningServer } from "../server.ts";
import { normalizeOrigin } from "../transports/http-listener.ts";
import { urlProblem } from "../cluster/bus.ts";
import { nodeNamePattern } from "../cluster/nodes.ts";
import packageJson from "../../package.json" with { type: "json" };
import { helpFlag, helpText, integer, Invalid, type Env, mapValues, nonEmpty, oneOf, option, optional, readFlags, text, toggle, UsageError, type Rule } from "./flags.ts";


export const exitUsage = 2;
export const exitFailure = 1;

const limitFlags = mapValues(Limits, (limit) =>
  option(`${limit.what} (${limit.unit}, ${limit.min} to ${limit.max})`, integer(limit.min, limit.max), limit.default),
);

/** `10.0.0.0/8,::1` -> ranges; empty text is no range at all. */
const ranges: Rule<readonly AddressRange[]> = (value) => {
  const parts = value.split(",").filter((part) => part.trim() !== "");
  const parsed = parts.map(parseRange);
  const bad = parts.find((_, i) => parsed[i] === undefined);
  return bad === undefined ? (parsed as AddressRange[]) : new Invalid(`expected CIDR ranges like 10.0.0.0/8,::1/128, got ${JSON.stringify(bad)}`);
};

/** `nats://a:4222,nats://b:4222` -> URLs; never with credentials in them (docs/protocol.md D57). */
const natsUrls: Rule<readonly string[]> = (value) => {
  const parts = value.split(",").map((part) => part.trim()).filter((part) => part !== "");
  if (parts.length === 0) return new Invalid("expected NATS URLs like nats://127.0.0.1:4222");
  for (const part of parts) {
    const problem = urlProblem(part);
    if (problem !== undefined) return new Invalid(problem);
  }
  return parts;
};

/** `https://chat.example.org,http://localhost:8080` -> origins; empty text is none. */
const origins: Rule<readonly string[]> = (value) => {
  const parts = value.split(",").map((part) => part.trim()).filter((part) => part !== "");
  const parsed = parts.map(normalizeOrigin);
  const bad = parts.find((_, i) => parsed[i] === undefined);
  return bad === undefined ? (parsed as string[]) : new Invalid(`expected origins like https://chat.example.org, got ${JSON.stringify(bad)}`);
};

export const serverFlags = {
  host: option("address to listen on (0.0.0.0 serves the LAN)", text, "127.0.0.1"),
  port: option("plain TCP port to listen on (0 picks a free one)", integer(0, 65535), 5050),
  noPlain: toggle("serve TLS only, no plain TCP"),
  tlsCert: optional("TLS certificate chain, a PEM file (with --tls-key: serve TLS and HTTPS too; reloaded on SIGHUP)", nonEmpty),
  tlsKey: optional("TLS private key, a PEM file", nonEmpty),
  tlsPort: option("TLS port to listen on (0 picks a free one)", integer(0, 65535), 5443),
  tlsHandshakeTimeoutMs: option("time for a TLS client to finish its handshake (ms)", integer(1, 2 ** 31 - 1), 10_000),
  httpPort: option("HTTP port: the web client at /, WebSocket clients at /ws, health at /healthz (0 picks a free one)", integer(0, 65535), 5080),
  noHttp: toggle("serve no HTTP (no WebSocket, no /healthz)"),
  httpsPort: option("HTTPS port, with --tls-cert: the HTTP routes inside TLS, WebSocket clients at wss://.../ws (0 picks a free one)", integer(0, 65535), 5444),
  noHttps: toggle("serve no HTTPS even with --tls-cert"),
  allowOrigins: option("origins, comma-separated, whose web pages may open a WebSocket besides the server's own (default: none)", origins, []),
  ...limitFlags,
  exemptAddresses: option("CIDR ranges, comma-separated, that the per-address caps do not apply to (default: none)", ranges, []),
  accounts: optional("the accounts file: names with an account need their password (reloaded on SIGHUP)", nonEmpty),
  requireAccounts: toggle("refuse names that have no account (with --accounts)"),
  trustPlaintextPasswordsFrom: option("CIDR ranges whose passwords are accepted without TLS (default: loopback)", ranges, loopback),
  cluster: optional("NATS servers, comma-separated (nats://HOST:PORT): run as one node of a cluster; the bus must be private or authenticated", natsUrls),
  nodeName: optional("this node's name in the cluster, 1 to 64 letters, digits, - or _ (default: host name, port and a random suffix)", (value) => (nodeNamePattern.test(value) ? value : new Invalid(`expected 1 to 64 letters, digits, - or _, got ${JSON.stringify(value)}`))),
  clusterCreds: optional("a NATS credentials file for the cluster (or PARLEY_CLUSTER_USER and PARLEY_CLUSTER_PASSWORD)", nonEmpty),
  clusterCa: optional("trust this CA (a PEM file) for TLS to NATS (tls:// URLs)", nonEmpty),
  logLevel: option(`one of ${LogLevels.join(", ")}`, oneOf(LogLevels), "info"),
  logFormat: option(`one of ${LogFormats.join(", ")}`, oneOf(LogFormats), "text"),
  help: helpFlag,
} as const;

const serverUsage = "Usage: parley server [flags]";

const mainHelp = `parley ${packageJson.version}: a small chat relay

Usage:
  parley server [flags]   run the relay server (parley server --help)
  parley client [flags]   chat from a terminal (parley client --help)
  parley accounts ...     add, change, remove and list accounts (parley accounts --help)
  parley conformance ...  check any server of this protocol (parley conformance --help)
  parley --version        print the version
`;

/** docs/protocol.md D57: the cluster's NATS code is loaded only here, only with --cluster. */
async function joinClusterFromFlags(
  options: { cluster?: readonly string[]; nodeName?: string; clusterCreds?: string; clusterCa?: string; port: number },
  env: Env,
  limits: LimitValues,
  events: EventSink,
): Promise<ClusterNode> {
  const user = env.PARLEY_CLUSTER_USER;
  const password = env.PARLEY_CLUSTER_PASSWORD;
  if ((user === undefined) !== (password === undefined)) throw new UsageError("PARLEY_CLUSTER_USER and PARLEY_CLUSTER_PASSWORD go together", "parley server --help");
  const { joinCluster } = await import("../cluster/node.ts");
  try {
    return await joinCluster({
      servers: options.cluster!,
      node: options.nodeName,
      port: options.port,
      creds: options.clusterCreds === undefined ? undefined : readFileSync(options.clusterCreds, "utf8"),
      user: user === undefined ? undefined : { name: user, password: password! },
      tls: options.clusterCa === undefined ? undefined : { ca: readFlagFile(options.clusterCa, "--cluster-ca") },
      deliveryDeadlineMs: limits.deliveryDeadlineMs,
      events,
    });
  } catch (error) {
    throw new Error(`cannot join the cluster at ${options.cluster!.join(",")}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function runServer(args: readonly string[], env: Env): Promise<number> {
  const options = readFlags(serverFlags, args, env, "parley server --help");
  if (options.help) {
    process.stdout.write(helpText(serverUsage, serverFlags));
    return 0;
  }
  const limits: LimitValues = mapValues(Limits, (_, name) => options[name]);
  const events = createLogger({
    level: options.logLevel,
    format: options.logFormat,
    linesPerSecond: options.logLinesPerSecond,
    write: boundedLines(process.stderr),
  });
  const { host, port } = options;
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together", "parley server --help");
  if (options.noPlain && options.tlsCert === undefined) throw new UsageError("--no-plain needs --tls-cert and --tls-key", "parley server --help");
  const readTls = () => (options.tlsCert === undefined ? undefined : { cert: readFlagFile(options.tlsCert, "--tls-cert"), key: readFlagFile(options.tlsKey!, "--tls-key") });
  const tls = readTls();
  if (options.requireAccounts && options.accounts === undefined) throw new UsageError("--require-accounts needs --accounts FILE", "parley server --help");
  const accounts =
    options.accounts === undefined
      ? undefined
      : FileAuthority.open({ path: options.accounts, requireAccounts: options.requireAccounts, maxClaimsPerAddress: options.maxClaimsPerAddress });
  for (const problem of accounts?.problems ?? []) events.emit({ type: "accounts.problem", file: options.accounts!, problem });
  // Signal handlers go in before the listeners: a supervisor (or a test) that
  // signals as soon as it reads server.listening must not meet the default action.
  let server: RunningServer | undefined;
  const { promise: stopped, resolve } = Promise.withResolvers<number>();
  const onSignal = (signal: string) => {
    events.emit({ type: "server.signal", signal });
    if (server === undefined) return resolve(0);
    void server.stop().then(() => resolve(0));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.on("SIGHUP", () => {
    events.emit({ type: "server.signal", signal: "SIGHUP" });
    // A certificate that fails to load keeps the old one, and says why.
    if (tls !== undefined && server !== undefined) {
      try {
        server.reloadTls(readTls()!);
        events.emit({ type: "tls.reloaded", cert: options.tlsCert! });
      } catch (error) {
        events.emit({ type: "tls.reload-failed", error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (accounts !== undefined) {
      const { added, removed, changed, problems } = accounts.authority.reload();
      for (const problem of problems) events.emit({ type: "accounts.problem", file: options.accounts!, problem });
      events.emit({ type: "accounts.reloaded", accounts: accounts.authority.size, added: added.join(","), removed: removed.join(","), changed: changed.join(",") });
    }
  });
  const cluster = options.cluster === undefined ? undefined : await joinClusterFromFlags(options, env, limits, events);
  try {
    server = startServer({
      cluster,
      hostname: host,
      port,
      plain: !options.noPlain,
      tls: tls && { ...tls, port: options.tlsPort, handshakeTimeoutMs: options.tlsHandshakeTimeoutMs },
      http: options.noHttp ? undefined : { port: options.httpPort, allowOrigins: options.allowOrigins },
      https: tls === undefined || options.noHttps ? undefined : { port: options.httpsPort, allowOrigins: options.allowOrigins },
      limits,
      events,
      exempt: options.exemptAddresses,
      authority: accounts?.authority,
      trustPlaintext: options.trustPlaintextPasswordsFrom,
    });
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    throw new Error(`cannot listen on ${host}:${error.port} (${error.transport}): ${error.inUse ? "address already in use" : error.message}`);
  }
  return stopped;
}

/**
 * Lines to a stream that may stop being read (stderr into a pipe nobody
 * drains): once it asks to wait, lines are counted and dropped until it
 * drains, so logging never buffers without bound.
 */
function boundedLines(stream: NodeJS.WriteStream): (line: string) => void {
  let blocked = false;
  let dropped = 0;
  stream.on("drain", () => {
    blocked = false;
    if (dropped > 0) stream.write(`${new Date().toISOString()} warn  log.dropped lines=${dropped} (stderr was not being read)\n`);
    dropped = 0;
  });
  return (line) => {
    if (blocked) dropped++;
    else blocked = !stream.write(line);
  };
}

async function dispatch(argv: readonly string[], env: Env): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "server":
      return runServer(rest, env);
    case "client":
      return runClientCommand(rest, env);
    case "accounts":
      return runAccounts(rest, env);
    case "conformance":
      return runConformance(rest, env);
    case "--version":
    case "-v":
      process.stdout.write(`parley ${packageJson.version}\n`);
      return 0;
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(mainHelp);
      return 0;
    case undefined:
      process.stderr.write(mainHelp);
      return exitUsage;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`, "parley --help");
  }
}

/** Runs one command line to its exit code; every failure becomes one line on stderr. */
export async function main(argv: readonly string[], env: Env): Promise<number> {
  try {
    return await dispatch(argv, env);
  } catch (error) {
    const usage = error instanceof UsageError;
    // One line, whatever the error says: scripts read stderr line by line.
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
    process.stderr.write(`parley: ${message}${usage ? ` (see ${error.help})` : ""}\n`);
    return usage ? exitUsage : exitFailure;
  }
}
