#!/usr/bin/env bun
// The command line: the only reader of process.argv and process.env. It turns
// flags and PARLEY_* variables into options for the server or the client, and
// every failure into one line on stderr and a non-zero exit.

import { runClient } from "./client/terminal.ts";
import { Limits, type LimitName, type LimitValues } from "./protocol/limits.ts";
import { LogLevels, type LogLevel } from "./core/events.ts";
import { createLogger, LogFormats, type LogFormat } from "./core/log.ts";
import { startServer } from "./server.ts";
import packageJson from "../package.json" with { type: "json" };

type FlagValue = string | number | boolean;

type Flag = {
  readonly name: string;
  readonly help: string;
  readonly default: FlagValue | undefined;
  /** Parses the text of the flag or its PARLEY_* variable; returns an error message for bad text. */
  readonly parse: (text: string) => FlagValue | { error: string };
  /** A switch takes no value: present means true. */
  readonly isSwitch?: boolean;
};

class UsageError extends Error {}

const exitUsage = 2;
const exitFailure = 1;

function integer(min: number, max: number) {
  return (text: string): number | { error: string } => {
    const value = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
    return value >= min && value <= max ? value : { error: `expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}` };
  };
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (text: string): T | { error: string } =>
    (choices as readonly string[]).includes(text) ? (text as T) : { error: `expected one of ${choices.join(", ")}, got ${JSON.stringify(text)}` };
}

const text = (value: string): string => value;

/** maxHeaderBytes -> max-header-bytes */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** --max-header-bytes -> PARLEY_MAX_HEADER_BYTES */
function envName(flag: string): string {
  return `PARLEY_${flag.replaceAll("-", "_").toUpperCase()}`;
}

const limitFlags: Flag[] = (Object.keys(Limits) as LimitName[]).map((name) => ({
  name: kebab(name),
  help: `${Limits[name].what} (${Limits[name].unit}, ${Limits[name].min} to ${Limits[name].max})`,
  default: Limits[name].default,
  parse: integer(Limits[name].min, Limits[name].max),
}));

const serverFlags: Flag[] = [
  { name: "host", help: "address to listen on (0.0.0.0 serves the LAN)", default: "127.0.0.1", parse: text },
  { name: "port", help: "TCP port to listen on (0 picks a free one)", default: 5050, parse: integer(0, 65535) },
  ...limitFlags,
  { name: "log-level", help: `one of ${LogLevels.join(", ")}`, default: "info", parse: oneOf(LogLevels) },
  { name: "log-format", help: `one of ${LogFormats.join(", ")}`, default: "text", parse: oneOf(LogFormats) },
  { name: "help", help: "show this help", default: false, parse: () => true, isSwitch: true },
];

const nonEmpty = (value: string): string | { error: string } => (value.length > 0 ? value : { error: "expected a value, got nothing" });

const clientFlags: Flag[] = [
  { name: "host", help: "server address (default: asked for on a terminal, else localhost)", default: undefined, parse: nonEmpty },
  { name: "port", help: "server TCP port", default: 5050, parse: integer(1, 65535) },
  { name: "user", help: "your username, 1 to 32 letters and digits (default: asked for on a terminal; needed otherwise)", default: undefined, parse: nonEmpty },
  { name: "listen", help: "keep receiving after input ends, until SIGINT/SIGTERM", default: false, parse: () => true, isSwitch: true },
  { name: "json", help: "one JSON object per event on stdout (received, delivered, failed, connected, disconnected)", default: false, parse: () => true, isSwitch: true },
  { name: "no-reconnect", help: "exit 1 when the connection is lost, instead of reconnecting (0.5 s doubling to 10 s)", default: false, parse: () => true, isSwitch: true },
  { name: "help", help: "show this help", default: false, parse: () => true, isSwitch: true },
];

const clientUsage = `Usage: parley client [flags]

On a terminal: chat interactively; type "@name message" or "@ALL message".
Otherwise (stdin is a pipe or file): send each input line, print one outcome
line per message, and exit 0 if every message was delivered, 1 if not:
  printf '@bob hi\\n' | parley client --user alice --host 127.0.0.1
Colours only on a terminal, and never when NO_COLOR is set.`;

/** Flags from argv override PARLEY_* variables, which override defaults. */
function parseFlags(args: string[], flags: Flag[], env: Record<string, string | undefined>): Map<string, FlagValue> {
  const byName = new Map(flags.map((flag) => [flag.name, flag]));
  const values = new Map<string, FlagValue>();
  const set = (flag: Flag, raw: string, source: string) => {
    const value = flag.parse(raw);
    if (typeof value === "object") throw new UsageError(`${source}: ${value.error}`);
    values.set(flag.name, value);
  };
  for (const flag of flags) {
    const fromEnv = env[envName(flag.name)];
    if (flag.default !== undefined) values.set(flag.name, flag.default);
    if (fromEnv !== undefined && fromEnv !== "" && !flag.isSwitch) set(flag, fromEnv, envName(flag.name));
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    const flag = match ? byName.get(match[1]!) : undefined;
    if (!match || !flag) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    if (flag.isSwitch) {
      if (match[2] !== undefined) throw new UsageError(`--${flag.name} takes no value`);
      values.set(flag.name, true);
      continue;
    }
    const raw = match[2] ?? args[++i];
    if (raw === undefined) throw new UsageError(`--${flag.name} needs a value`);
    set(flag, raw, `--${flag.name}`);
  }
  return values;
}

function helpText(usage: string, flags: Flag[]): string {
  const rows = flags.map((flag) => {
    const left = flag.isSwitch ? `--${flag.name}` : `--${flag.name} <value>`;
    const env = flag.isSwitch ? "" : ` [${envName(flag.name)}]`;
    const def = flag.default === undefined || flag.isSwitch ? "" : ` (default: ${flag.default})`;
    return `  ${left.padEnd(32)} ${flag.help}${def}${env}`;
  });
  return `${usage}\n\nFlags (environment variable in brackets):\n${rows.join("\n")}\n`;
}

const mainHelp = `parley ${packageJson.version}: a small chat relay

Usage:
  parley server [flags]   run the relay server (parley server --help)
  parley client [flags]   chat from a terminal (parley client --help)
  parley --version        print the version
`;

async function runServer(args: string[]): Promise<number> {
  const flags = parseFlags(args, serverFlags, process.env);
  if (flags.get("help")) {
    process.stdout.write(helpText("Usage: parley server [flags]", serverFlags));
    return 0;
  }
  const limits = Object.fromEntries((Object.keys(Limits) as LimitName[]).map((name) => [name, flags.get(kebab(name)) as number])) as unknown as LimitValues;
  const events = createLogger({
    level: flags.get("log-level") as LogLevel,
    format: flags.get("log-format") as LogFormat,
    write: (line) => process.stderr.write(line),
  });
  const host = flags.get("host") as string;
  const port = flags.get("port") as number;
  let server;
  try {
    server = startServer({ hostname: host, port, limits, events });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "EADDRINUSE" ? "address already in use" : (error as Error).message;
    throw new Error(`cannot listen on ${host}:${port}: ${why}`);
  }
  const { promise: stopped, resolve } = Promise.withResolvers<number>();
  const onSignal = (signal: string) => {
    events.emit({ type: "server.signal", signal });
    server.stop().then(() => resolve(0));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return stopped;
}

async function runClientCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, clientFlags, process.env);
  if (flags.get("help")) {
    process.stdout.write(helpText(clientUsage, clientFlags));
    return 0;
  }
  return runClient({
    host: flags.get("host") as string | undefined,
    port: flags.get("port") as number,
    user: flags.get("user") as string | undefined,
    listen: flags.get("listen") as boolean,
    json: flags.get("json") as boolean,
    reconnect: !(flags.get("no-reconnect") as boolean),
    // https://no-color.org: set and not empty.
    color: (process.env.NO_COLOR ?? "") === "",
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "server":
      return runServer(rest);
    case "client":
      return runClientCommand(rest);
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
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError;
    process.stderr.write(`parley: ${(error as Error).message}${usage ? " (see parley --help)" : ""}\n`);
    process.exit(usage ? exitUsage : exitFailure);
  },
);
