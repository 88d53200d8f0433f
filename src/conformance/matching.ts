// Whether a message a server wrote is the one a transcript expects: exactly,
// by lenient readings (deviations, named), or not at all (and why, in words).

import type { Deviation } from "./deviations.ts";
import type { Message } from "./reading.ts";

/**
 * Header fields where the contract leaves a server free: "any-value" must be
 * there with any value; "optional" may also be missing (PROTOCOL.md §7: a
 * grant "may carry limits"). Only the kit applies this: the project's own
 * suite holds parley to the exact bytes.
 */
export type Loose = Readonly<Record<string, "any-value" | "optional">>;

export type Verdict = { readonly ok: true; readonly deviations: ReadonlySet<Deviation> } | { readonly ok: false; readonly why: string };

/** How a first line the server wrote reads as the expected one: the same, by a deviation, or not at all. */
export function readFirstLine(expected: string, got: string): "same" | Deviation | undefined {
  if (got === expected) return "same";
  if (expected.startsWith("SENT ") && got === `SEND ${expected.slice(5)}`) return "send-for-sent";
  const code = /^ERROR [0-9]{3} /.exec(expected)?.[0];
  if (code !== undefined && got.startsWith(code) && got.toLowerCase() === expected.toLowerCase()) return "error-text";
  return undefined;
}

export function match(expected: Message, got: Message, loose: Loose = {}): Verdict {
  const deviations = new Set(got.deviations);
  const first = readFirstLine(expected.first, got.first);
  if (first === undefined) return { ok: false, why: "another message" };
  if (first !== "same") deviations.add(first);

  const rules = new Map(Object.entries(loose).map(([name, rule]) => [name.toLowerCase(), rule]));
  const unmatched = new Map(got.fields.map((field) => [field.name.toLowerCase(), field]));
  for (const want of expected.fields) {
    const key = want.name.toLowerCase();
    const rule = rules.get(key);
    const have = unmatched.get(key);
    unmatched.delete(key);
    if (have === undefined) {
      if (rule === "optional") continue;
      return { ok: false, why: `no ${want.name} field` };
    }
    if (have.value !== want.value && rule === undefined) return { ok: false, why: `${want.name} ${JSON.stringify(have.value)} where ${JSON.stringify(want.value)} was expected` };
    // The canonical spelling is the expected name, a colon, and one space before a value.
    if (have.name !== want.name || have.raw !== (have.value === "" ? "" : ` ${have.value}`)) deviations.add("field-spelling");
  }
  for (const key of unmatched.keys()) if (!rules.has(key)) deviations.add("extra-field");

  if (!sameBytes(got.body, expected.body)) return { ok: false, why: "another body" };
  return { ok: true, deviations };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
