// Runs checks against a server one after another, never two at once: each
// with fresh names and its own connections, every one of them closed before
// the next check starts, and every step bounded by the step timeout.

import { gates } from "./catalogue.ts";
import { skipReason, type Check } from "./checks.ts";
import type { Deviation } from "./deviations.ts";
import { Journal, StepFailure } from "./journal.ts";
import { Names } from "./names.ts";
import { join, type Stage, type User } from "./transcript.ts";
import { WireClient, type Target } from "./wire-client.ts";

export type Settings = { readonly target: Target; readonly timeoutMs: number; readonly seed: number; readonly extensions: boolean };

/** pass; fail (the contract); deviation (a lenient reading, named); differs (not parley's decision, which is no failure); skip. */
export type Kind = "pass" | "fail" | "deviation" | "differs" | "skip";

export type Result = {
  readonly check: Check;
  readonly kind: Kind;
  readonly detail?: string;
  readonly deviations?: readonly Deviation[];
  readonly expected?: Uint8Array;
  readonly received?: Uint8Array;
  readonly ms: number;
};

const coalescedHint = " (this check writes several messages in one write, which a server that takes one read for one message loses: PROTOCOL.md §1)";

/** A check's whole budget, past every step's own: a transcript has at most a couple of dozen steps. */
const stepsPerCheck = 25;

export async function* runChecks(selected: readonly Check[], settings: Settings): AsyncGenerator<Result> {
  const names = new Names(settings.seed);
  let failedGate: string | undefined;
  for (const check of selected) {
    const why = skipReason(check, settings.extensions) ?? (failedGate === undefined ? undefined : `needs ${failedGate}, which failed`);
    if (why !== undefined) {
      yield { check, kind: "skip", detail: why, ms: 0 };
      continue;
    }
    const result = await runCheck(check, settings, names.forCheck());
    if (gates.includes(check.id) && result.kind === "fail") failedGate = check.id;
    yield result;
  }
}

async function runCheck(check: Check, settings: Settings, name: (base: string) => string): Promise<Result> {
  const { transcript, mode } = check;
  const started = performance.now();
  const journal = new Journal();
  const lines: WireClient[] = [];
  let over = false;
  const connect = async (label = "peer") => {
    if (over) throw new StepFailure(`${label}: the check was already over`);
    const line = await WireClient.connect(settings.target, label, settings.timeoutMs, journal);
    lines.push(line);
    // A transcript left behind by the check's own deadline opens nothing that outlives it.
    if (over) line.close();
    return line;
  };
  const stage: Stage = { mode, name, connect, join: (base) => join(base, name(base), mode, connect) };
  const run = (async () => {
    const users: Record<string, User> = {};
    for (const base of transcript.cast) users[base] = await stage.join(base);
    await transcript.run(users, stage);
  })();
  run.catch(() => {});
  const budgetMs = settings.timeoutMs * stepsPerCheck;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outOfTime = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepFailure(`the check took longer than ${budgetMs} ms`)), budgetMs);
  });
  let failure: StepFailure | undefined;
  try {
    await Promise.race([run, outOfTime]);
    for (const line of lines) line.settle();
  } catch (error) {
    failure = error instanceof StepFailure ? error : new StepFailure(`the kit itself failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    over = true;
    clearTimeout(timer);
    for (const line of lines) line.close();
  }
  const ms = Math.round(performance.now() - started);
  const deviations = [...journal.deviations.keys()];
  // Parley's own decisions bind no other server: not meeting one is a difference, never a failure.
  const notMet = transcript.section === "parley" ? "differs" : "fail";
  if (failure !== undefined) {
    const detail = failure.message + (journal.coalescedWrites > 0 ? coalescedHint : "");
    return { check, kind: notMet, detail, deviations, expected: failure.expected, received: failure.received, ms };
  }
  if (deviations.length === 0) return { check, kind: "pass", ms };
  // Deviations first met in one message are told together, with that message once.
  const byWhere = Map.groupBy(journal.deviations, ([, where]) => where);
  const detail = [...byWhere].map(([where, found]) => `${found.map(([deviation]) => deviation).join(", ")}: ${where}`).join("; ");
  return { check, kind: transcript.deviations === "accepted" ? "deviation" : notMet, detail, deviations, ms };
}
