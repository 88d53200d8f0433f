// Runs `parley conformance` as a process (from source) with --json and a
// seed, and reads back its one JSON line per check and its summary.

import { seedFromEnv } from "../support/prng.ts";
import { Child, fromSource } from "../support/process.ts";

export type CheckLine = {
  readonly id: string;
  readonly section: string;
  readonly kind: "pass" | "fail" | "deviation" | "differs" | "skip";
  readonly detail?: string;
  readonly deviations?: readonly string[];
  readonly expected?: string;
  readonly received?: string;
};

export type KitRun = {
  readonly code: number | null;
  readonly seed: number;
  readonly stderr: string;
  readonly checks: ReadonlyMap<string, CheckLine>;
  readonly summary: { readonly exit: number; readonly sections: Record<string, Record<string, number>> };
  /** The ids of the checks of this kind, in order. */
  of(kind: CheckLine["kind"]): string[];
};

/** The seed every kit run of the tests uses; PARLEY_SEED=n for another. */
export const kitSeed = seedFromEnv("PARLEY_SEED", 20261130);

export async function runKit(port: number, args: readonly string[] = [], deadlineMs = 30_000): Promise<KitRun> {
  await using kit = new Child([...fromSource, "conformance", `127.0.0.1:${port}`, "--json", "--seed", String(kitSeed), ...args]);
  const code = await kit.exit(deadlineMs);
  const lines = kit.stdoutLines.map((line) => JSON.parse(line) as { type: string } & Record<string, unknown>);
  const checks = new Map(lines.filter((line) => line.type === "check").map((line) => [line.id as string, line as unknown as CheckLine]));
  const summary = lines.find((line) => line.type === "summary") as unknown as KitRun["summary"] | undefined;
  if (summary === undefined) throw new Error(`no summary (seed ${kitSeed}, exit ${code}):\n${kit.stdout}\n${kit.stderr}`);
  return { code, seed: kitSeed, stderr: kit.stderr, checks, summary, of: (kind) => [...checks.values()].filter((check) => check.kind === kind).map((check) => check.id) };
}
