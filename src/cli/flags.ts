// Flag tables to typed options. A command declares its flags once, as an
// object of Flag values; from it come node:util parseArgs' config, the
// PARLEY_* variables, the --help rows and the type of the parsed options.

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { parseInteger } from "../protocol/integer.ts";

/** The environment, as the entry point hands it down. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What was wrong with a value, in words for the one line on stderr. */
export class Invalid {
  constructor(readonly reason: string) {}
}

/** Turns the text of a flag or of its variable into a value. */
export type Rule<T> = (text: string) => T | Invalid;

export type Flag<T> = {
  readonly help: string;
  /** parseArgs' type: "string" takes a value, "boolean" is a switch (present means on). */
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly fallback: T;
  readonly rule: Rule<T>;
  /** Whether PARLEY_<FLAG> sets it too. */
  readonly hasEnv: boolean;
};

export type FlagTable = { readonly [key: string]: Flag<unknown> };

/** The options a table yields: `{ port: number; user: string | undefined; json: boolean; ... }`. */
export type Options<F extends FlagTable> = { readonly [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

/** A misuse of the command line: exit 2, and point at the help that explains it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly help: string,
  ) {
    super(message);
  }
}

/** A flag that takes a value, with a default. */
export function option<T>(help: string, rule: Rule<T>, fallback: T): Flag<T> {
  return { help, type: "string", fallback, rule, hasEnv: true };
}

/** A flag that takes a value and may be left out: undefined then. */
export function optional<T>(help: string, rule: Rule<T>): Flag<T | undefined> {
  return { help, type: "string", fallback: undefined, rule, hasEnv: true };
}

/** A switch: off unless given; its variable takes 1 or true, 0 or false. */
export function toggle(help: string): Flag<boolean> {
  return { help, type: "boolean", fallback: false, rule: onOff, hasEnv: true };
}

/** --help and -h: a switch with no variable, since a variable that always prints help would be a trap. */
export const helpFlag: Flag<boolean> = { help: "show this help", type: "boolean", short: "h", fallback: false, rule: onOff, hasEnv: false };

const utf8 = new TextEncoder();

/** docs/protocol.md D3's integer rule (src/protocol/integer.ts), with a lower bound too. */
export function integer(min: number, max: number): Rule<number> {
  return (text) => {
    const value = parseInteger(utf8.encode(text), max);
    return value >= min ? value : new Invalid(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  };
}

export function oneOf<const T extends string>(choices: readonly T[]): Rule<T> {
  return (text) => choices.find((choice) => choice === text) ?? new Invalid(`expected one of ${choices.join(", ")}, got ${JSON.stringify(text)}`);
}

export const text: Rule<string> = (value) => value;

export const nonEmpty: Rule<string> = (value) => (value.length > 0 ? value : new Invalid("expected a value, got nothing"));

function onOff(value: string): boolean | Invalid {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return new Invalid(`expected 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

/** maxHeaderBytes -> max-header-bytes */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** maxHeaderBytes -> PARLEY_MAX_HEADER_BYTES */
export function envName(key: string): string {
  return `PARLEY_${flagName(key).replaceAll("-", "_").toUpperCase()}`;
}

/** `table` with each value mapped by `f`, its keys kept in the type (Limits -> limit flags, options -> LimitValues). */
export function mapValues<T extends object, U>(table: T, f: (value: T[keyof T], key: Extract<keyof T, string>) => U): { readonly [K in keyof T]: U } {
  const out: Partial<Record<keyof T, U>> = {};
  for (const key in table) out[key] = f(table[key], key);
  // Every key of `table` was just set.
  return out as { readonly [K in keyof T]: U };
}

function parseArgsConfig(table: FlagTable): ParseArgsOptionsConfig {
  const config: ParseArgsOptionsConfig = {};
  for (const [key, flag] of Object.entries(table)) config[flagName(key)] = flag.short === undefined ? { type: flag.type } : { type: flag.type, short: flag.short };
  return config;
}

/**
 * Flags in `args` override PARLEY_* variables in `env`, which override defaults.
 * Throws UsageError naming the flag or variable at fault, pointing at `help`.
 */
export function readFlags<F extends FlagTable>(table: F, args: readonly string[], env: Readonly<Record<string, string | undefined>>, help: string): Options<F> {
  const usage = (message: string) => new UsageError(message, help);
  const values: Record<string, unknown> = {};
  const set = (key: string, raw: string, source: string) => {
    const value = table[key]!.rule(raw);
    if (value instanceof Invalid) throw usage(`${source}: ${value.reason}`);
    values[key] = value;
  };
  const keyOf = new Map(Object.keys(table).map((key) => [flagName(key), key]));

  for (const [key, flag] of Object.entries(table)) {
    values[key] = flag.fallback;
    const fromEnv = flag.hasEnv ? env[envName(key)] : undefined;
    // An empty variable counts as unset, as `PARLEY_PORT= parley server` means.
    if (fromEnv !== undefined && fromEnv !== "") set(key, fromEnv, envName(key));
  }

  // Not strict: the tokens let each problem be told in the table's own words, and let
  // `--max-body-bytes -1` reach the integer rule instead of failing as "ambiguous".
  const { tokens } = parseArgs({ args: [...args], options: parseArgsConfig(table), strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") throw usage(`unknown argument ${JSON.stringify(token.value)}`);
    const key = keyOf.get(token.name);
    if (key === undefined) throw usage(`unknown argument ${JSON.stringify(token.rawName)}`);
    const flag = table[key]!;
    const name = `--${token.name}`;
    if (flag.type === "boolean") {
      if (token.value !== undefined) throw usage(`${name} takes no value`);
      values[key] = true;
    } else {
      if (token.value === undefined) throw usage(`${name} needs a value`);
      set(key, token.value, name);
    }
  }
  // Every key of the table holds a value its own rule produced.
  return values as Options<F>;
}

/** The usage text, then one row per flag: name, meaning, default and variable. */
export function helpText(usage: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([key, flag]) => {
    const short = flag.short === undefined ? "" : `, -${flag.short}`;
    const left = flag.type === "boolean" ? `--${flagName(key)}${short}` : `--${flagName(key)}${short} <value>`;
    // A list's default (ranges, origins) is said in its help text, in words: its values do not print as text.
    const printable = typeof flag.fallback === "string" || typeof flag.fallback === "number";
    const fallback = flag.type === "boolean" || !printable ? "" : ` (default: ${flag.fallback})`;
    const variable = flag.hasEnv ? ` [${envName(key)}]` : "";
    return `  ${left.padEnd(32)} ${flag.help}${fallback}${variable}`;
  });
  const switches = Object.values(table).some((flag) => flag.type === "boolean" && flag.hasEnv);
  const note = switches ? "A switch's variable takes 1 or true (on), 0 or false (off).\n" : "";
  const heading = Object.values(table).some((flag) => flag.hasEnv) ? "Flags (environment variable in brackets):" : "Flags:";
  return `${usage}\n\n${heading}\n${rows.join("\n")}\n${note}`;
}
