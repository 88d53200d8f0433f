// `parley conformance HOST:PORT`: the interop kit's command line. Its flags
// have no PARLEY_* variables: a PARLEY_JSON set for the client must not
// change what the kit prints.

import { gates } from "../conformance/catalogue.ts";
import { checks, selectChecks, type Check } from "../conformance/checks.ts";
import { headings, jsonLine, summarize, summaryJson, summaryText, textLine } from "../conformance/report.ts";
import { runChecks, type Result } from "../conformance/run.ts";
import type { Section } from "../conformance/transcript.ts";
import type { Target } from "../conformance/wire-client.ts";
import { helpFlag, helpText, integer, Invalid, nonEmpty, option, optional, readFlags, toggle, type Env, type Flag, UsageError } from "./flags.ts";

const help = "parley conformance --help";

const noEnv = <T>(flag: Flag<T>): Flag<T> => ({ ...flag, hasEnv: false });

export const conformanceFlags = {
  json: noEnv(toggle("one JSON object per check, then one for the summary")),
  only: noEnv(optional("run only these checks, comma-separated: ids or groups (below); the gates always run", nonEmpty)),
  strict: noEnv(toggle("exit 1 on a DEVIATION too, not only on a FAIL")),
  extensions: noEnv(toggle("also check version 2 (PROTOCOL.md §6-7): negotiation, reasons, names in any case; and parley's presence")),
  seed: noEnv(optional("the seed for this run's random names (default: a fresh one, printed)", integer(0, 2 ** 32 - 1))),
  timeoutMs: noEnv(option("how long each step waits for the server (ms)", integer(1, 600_000), 2000)),
  help: helpFlag,
} as const;

const usage = `Usage: parley conformance HOST:PORT [flags]

Checks a server of this protocol against PROTOCOL.md §1-4 (with --extensions,
§6-7 too), one check at a time, each with fresh names and its own
connections. One line per check: PASS, FAIL (the bytes expected and the bytes
received), DEVIATION (a lenient reading the original design leaves open, named),
SKIP (and why); then parley's own decisions, reported apart (PASS, DIFFERS,
SKIP), which never fail a server. Run it against a server nobody else uses:
broadcasts and the list of who is online see everyone.
Exit: 0 no FAIL (with --strict: no DEVIATION either), 1 otherwise, 2 bad usage.`;

function checkList(): string {
  const rows = checks.map((check) => `  ${check.id.padEnd(40)} ${check.transcript.checks.padEnd(4)} ${check.transcript.section}`);
  return `Checks (--only takes these, or a group such as "delivery"):\n${rows.join("\n")}\n`;
}

/** `127.0.0.1:5050`, `localhost:5050`, `[::1]:5050`. */
function parseTarget(text: string): Target {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]+)$/.exec(text);
  const port = match === null ? new Invalid("") : integer(1, 65535)(match[3]!);
  if (match === null || port instanceof Invalid) throw new UsageError(`expected HOST:PORT (such as 127.0.0.1:5050), got ${JSON.stringify(text)}`, help);
  return { host: match[1] ?? match[2]!, port };
}

/** The one argument that is neither a flag nor a flag's value. */
function splitTarget(args: readonly string[]): { readonly target: string | undefined; readonly flags: readonly string[] } {
  const takesValue = new Set(["--only", "--seed", "--timeout-ms"]);
  const at = args.findIndex((arg, i) => !arg.startsWith("-") && (i === 0 || !takesValue.has(args[i - 1]!)));
  return at < 0 ? { target: undefined, flags: args } : { target: args[at], flags: args.filter((_, i) => i !== at) };
}

export async function runConformance(args: readonly string[], env: Env): Promise<number> {
  const split = splitTarget(args);
  const options = readFlags(conformanceFlags, split.flags, env, help);
  if (options.help) {
    process.stdout.write(`${helpText(usage, conformanceFlags)}\n${checkList()}`);
    return 0;
  }
  if (split.target === undefined) throw new UsageError("which server? give HOST:PORT", help);
  const target = parseTarget(split.target);
  const names = options.only?.split(",").map((name) => name.trim()).filter((name) => name !== "") ?? [];
  const selected = names.length === 0 ? checks : selectChecks(names);
  if ("unknown" in selected) throw new UsageError(`--only: no check is named ${JSON.stringify(selected.unknown)}`, help);
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const settings = { target, timeoutMs: options.timeoutMs, seed, extensions: options.extensions };
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (!options.json) say(`parley conformance ${split.target}: seed ${seed}, ${options.timeoutMs} ms per step`);
  const results: Result[] = [];
  let section: Section | undefined;
  for await (const result of runChecks(withGates(selected), settings)) {
    results.push(result);
    if (options.json) {
      say(jsonLine(result));
      continue;
    }
    if (result.check.transcript.section !== section) {
      section = result.check.transcript.section;
      say(headings[section]);
    }
    say(textLine(result));
  }
  const summary = summarize(results, options.strict);
  say(options.json ? summaryJson(summary, { target: split.target, seed, timeoutMs: options.timeoutMs, strict: options.strict }) : summaryText(summary, seed));
  return summary.exit;
}

/** The gates, whatever --only chose: without them nothing else can be checked. */
function withGates(selected: readonly Check[]): readonly Check[] {
  return checks.filter((check) => gates.includes(check.id) || selected.includes(check));
}
