// Every transcript, in the order the kit runs and reports them: the gates
// (connect, register.roles) first, then the contract, version 2, and
// parley's own decisions. test/scenarios runs the same list.

import type { Transcript } from "./transcript.ts";
import { broadcast } from "./transcripts/broadcast.ts";
import { delivery } from "./transcripts/delivery.ts";
import { extensions } from "./transcripts/extensions.ts";
import { failures } from "./transcripts/failures.ts";
import { registration } from "./transcripts/registration.ts";

const sections = ["contract", "version 2", "parley"] as const;

export const transcripts: readonly Transcript[] = [...registration, ...delivery, ...broadcast, ...failures, ...extensions].sort(
  (a, b) => sections.indexOf(a.section) - sections.indexOf(b.section),
);

/** Checks that every other one needs: when one fails, the rest are skipped rather than failed for the same reason. */
export const gates: readonly string[] = ["connect", "register.roles"];
