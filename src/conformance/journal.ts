// What one check saw, across all its connections: the lenient readings it
// needed (with the first instance of each, to show), whether it wrote several
// messages in one write, and how a step failed.

import type { Deviation } from "./deviations.ts";

/** A step that did not go as the transcript expected: the line to report, and the bytes on each side. */
export class StepFailure extends Error {
  override readonly name = "StepFailure";
  constructor(
    message: string,
    readonly expected?: Uint8Array,
    readonly received?: Uint8Array,
  ) {
    super(message);
  }
}

export class Journal {
  /** Each deviation met, with where it was first met. */
  readonly deviations = new Map<Deviation, string>();
  /** Writes that carried more than one message (PROTOCOL.md §1: several messages in one read). */
  coalescedWrites = 0;

  noteDeviations(found: Iterable<Deviation>, where: string): void {
    for (const deviation of found) if (!this.deviations.has(deviation)) this.deviations.set(deviation, where);
  }
}
