// What `parley conformance` prints: one line per check (text or JSON), a
// heading before each section, and one summary whose verdict is the exit code.

import { escape } from "./bytes.ts";
import type { Section } from "./transcript.ts";
import type { Kind, Result } from "./run.ts";

export const headings: Readonly<Record<Section, string>> = {
  contract: "contract (PROTOCOL.md §1-5): a FAIL here is a bug in the server",
  "version 2": "version 2 (PROTOCOL.md §6-7, with --extensions)",
  parley: "parley's own decisions (docs/protocol.md D-entries): never a failure; DIFFERS says this server decided otherwise",
};

const kindWidth = Math.max(..."PASS FAIL DEVIATION DIFFERS SKIP".split(" ").map((word) => word.length));

export type Counts = Record<Kind, number>;

export type Summary = {
  readonly sections: Readonly<Record<Section, Counts>>;
  /** 0: no contract check failed (and with strict, none deviated); 1 otherwise. */
  readonly exit: 0 | 1;
};

export function textLine(result: Result): string {
  const { check, kind, detail } = result;
  const { checks, title } = check.transcript;
  return `${kind.toUpperCase().padEnd(kindWidth)}  ${checks.padEnd(4)} ${check.id}: ${title}${detail === undefined ? "" : ` -> ${detail}`}`;
}

export function jsonLine(result: Result): string {
  const { check, kind, detail, deviations, expected, received, ms } = result;
  const { section, checks, title } = check.transcript;
  return JSON.stringify({
    type: "check",
    id: check.id,
    section,
    checks,
    mode: check.mode,
    kind,
    title,
    ...(detail === undefined ? {} : { detail }),
    ...(deviations === undefined || deviations.length === 0 ? {} : { deviations }),
    ...(expected === undefined ? {} : { expected: escape(expected, 1000) }),
    ...(received === undefined ? {} : { received: escape(received, 1000) }),
    ms,
  });
}

export function summarize(results: readonly Result[], strict: boolean): Summary {
  const zero = (): Counts => ({ pass: 0, fail: 0, deviation: 0, differs: 0, skip: 0 });
  const sections: Record<Section, Counts> = { contract: zero(), "version 2": zero(), parley: zero() };
  for (const result of results) sections[result.check.transcript.section][result.kind]++;
  const contract = [sections.contract, sections["version 2"]];
  const failed = contract.some((counts) => counts.fail > 0 || (strict && counts.deviation > 0));
  return { sections, exit: failed ? 1 : 0 };
}

export function summaryText(summary: Summary, seed: number): string {
  const { contract, parley } = summary.sections;
  const v2 = summary.sections["version 2"];
  const counts = (c: Counts, kinds: readonly Kind[]) => kinds.map((kind) => `${c[kind]} ${kind}`).join(", ");
  const verdicts = ["pass", "fail", "deviation", "skip"] as const;
  return `summary: contract: ${counts(contract, verdicts)} | version 2: ${counts(v2, verdicts)} | parley: ${counts(parley, ["pass", "differs", "skip"])} | seed ${seed} | exit ${summary.exit}`;
}

export function summaryJson(summary: Summary, details: { readonly target: string; readonly seed: number; readonly timeoutMs: number; readonly strict: boolean }): string {
  return JSON.stringify({ type: "summary", ...details, sections: summary.sections, exit: summary.exit });
}
