// The kit's checks: each transcript of the catalogue in the modes the kit
// runs it in, named for --only, and why one is skipped before it runs.

import { transcripts } from "./catalogue.ts";
import type { Mode, Transcript } from "./transcript.ts";

export type Check = { readonly id: string; readonly transcript: Transcript; readonly mode: Mode };

/** Every transcript with two connections per user (the original design's way); those that ask, with one too, as `<id>/single-connection`. */
export const checks: readonly Check[] = transcripts.flatMap((transcript) =>
  (transcript.kitModes ?? ["two-connection"])
    .filter((mode) => transcript.modes?.includes(mode) ?? true)
    .map((mode) => ({ id: mode === "two-connection" ? transcript.id : `${transcript.id}/${mode}`, transcript, mode })),
);

/** The names --only takes: each check's id, and each group before a dot (`delivery` is every `delivery.*`). */
export function selectChecks(names: readonly string[]): readonly Check[] | { readonly unknown: string } {
  const unknown = names.find((name) => !checks.some((check) => chosen(check, name)));
  if (unknown !== undefined) return { unknown };
  return checks.filter((check) => names.some((name) => chosen(check, name)));
}

function chosen(check: Check, name: string): boolean {
  return check.id === name || check.transcript.id === name || check.id.startsWith(`${name}.`);
}

/** Why the kit cannot run `check` against another server with these settings, if it cannot. */
export function skipReason(check: Check, extensions: boolean): string | undefined {
  const { limits, extensions: needsExtensions } = check.transcript;
  if (needsExtensions && !extensions) return "version 2: run with --extensions";
  if (limits !== undefined) {
    const wanted = Object.entries(limits).map(([name, value]) => `${name} ${value}`).join(", ");
    return `needs the server's ${wanted}, a limit the kit cannot set on another server`;
  }
  return undefined;
}
