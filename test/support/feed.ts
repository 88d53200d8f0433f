// Runs a Framer over one wire in several feeds (STYLE.md §9): one chunk, byte
// by byte, split in two at every boundary, random splits, and coalesced with
// neighbour messages. Each run uses a fresh framer and reports what a careful
// connection would see, so every feed can be compared with the one-chunk run.

import type { ProtocolError } from "../../src/protocol/errors.ts";
import type { Framer } from "../../src/protocol/framer.ts";
import type { Rng } from "./prng.ts";
import { concat } from "./peer.ts";

export type Frame<H> = { head: H; body: Uint8Array };

export type FeedResult<H> = {
  /** Frames in order, bodies copied as they arrive. */
  frames: Frame<H>[];
  /** The first error push returned, if any. */
  error: ProtocolError | undefined;
  /** The largest framer.bufferedBytes seen after any push. */
  maxBuffered: number;
  /** Broken framer contracts seen along the way: a frame after the error, an error that changed, a throw. */
  violations: string[];
};

/** One way of cutting a wire, labelled so a failure says which cut broke it. */
export type Chunking = { label: string; chunks: Uint8Array[] };

export type FeedRun<H> = { label: string; result: FeedResult<H> };

/** Pushes `chunks` in order into `framer`, pushing on after an error to check that it is sticky. */
export function runChunks<H extends { readonly length: number }>(framer: Framer<H>, chunks: readonly Uint8Array[]): FeedResult<H> {
  const result: FeedResult<H> = { frames: [], error: undefined, maxBuffered: 0, violations: [] };
  for (const [n, chunk] of chunks.entries()) {
    const failedBefore = result.error;
    let framesInPush = 0;
    let returned: ProtocolError | undefined;
    try {
      returned = framer.push(chunk, (head, body) => {
        framesInPush++;
        result.frames.push({ head, body: body.slice() });
      });
    } catch (thrown) {
      result.violations.push(`push ${n} threw ${String(thrown)}`);
      return result;
    }
    if (failedBefore !== undefined) {
      if (returned !== failedBefore) result.violations.push(`push ${n} after the error returned ${String(returned)}, not the same error`);
      if (framesInPush > 0) result.violations.push(`push ${n} after the error delivered ${framesInPush} frame(s)`);
    }
    result.error ??= returned;
    result.maxBuffered = Math.max(result.maxBuffered, framer.bufferedBytes);
  }
  return result;
}

/** Copies, like Bun's socket data: every chunk owns its memory. */
function cut(wire: Uint8Array, points: readonly number[]): Uint8Array[] {
  return [0, ...points].map((from, i) => wire.slice(from, points[i]));
}

/** Sorted random cut points (duplicates allowed, giving empty chunks). */
export function randomCuts(wire: Uint8Array, r: Rng): number[] {
  const count = r.chance(0.2) ? r.int(wire.length + 1) : 1 + r.int(Math.min(8, wire.length + 1));
  return Array.from({ length: count }, () => r.int(wire.length + 1)).sort((a, b) => a - b);
}

function randomSplits(wire: Uint8Array, r: Rng, runs = 8): Chunking[] {
  return Array.from({ length: runs }, () => {
    const points = randomCuts(wire, r);
    return { label: `seed ${r.seed}, cut at [${points.join(",")}]`, chunks: cut(wire, points) };
  });
}

/** Messages both decoders accept, one with a body holding a blank line: neighbours for coalesced feeds. */
export const neighbours = {
  before: new TextEncoder().encode("ERROR 101 No user registered\n\nERROR 102 Unable to send\nContent-length: 4\n\n\n\n\n\n"),
  after: new TextEncoder().encode("ERROR 104 Username taken\nContent-length: 3\n\nx\ny\n"),
};

export type FeedOptions = {
  rng: Rng;
  /** Random-split runs per wire. */
  randomRuns?: number;
  /** Set when the wire does not end at a message boundary: nothing may be appended after it. */
  partial?: boolean;
  /** Skip the every-boundary feed (quadratic) for very long wires. */
  skipEverySplit?: boolean;
};

/**
 * Runs `wire` through a fresh framer per chunking, in every feed. Coalesced runs
 * put neighbour messages before (and, for a complete wire, after) it in the same
 * chunk, check the neighbours' frames and strip them, so every run's result is
 * directly comparable with the one-chunk run of `wire` alone.
 */
export function runFeeds<H extends { readonly length: number }>(makeFramer: () => Framer<H>, wire: Uint8Array, options: FeedOptions): FeedRun<H>[] {
  const chunkings: Chunking[] = [
    { label: "one chunk", chunks: [wire.slice()] },
    { label: "byte by byte", chunks: Array.from({ length: wire.length }, (_, i) => wire.slice(i, i + 1)) },
    // Two chunks, cut at every position from 0 to wire.length (empty first and last chunks included).
    ...(options.skipEverySplit ? [] : Array.from({ length: wire.length + 1 }, (_, at) => ({ label: `split at ${at}`, chunks: cut(wire, [at]) }))),
    ...randomSplits(wire, options.rng, options.randomRuns),
  ];
  const runs: FeedRun<H>[] = chunkings.map(({ label, chunks }) => ({ label, result: runChunks(makeFramer(), chunks) }));

  const before = runChunks(makeFramer(), [neighbours.before]).frames;
  const after = runChunks(makeFramer(), [neighbours.after]).frames;
  const coalesced = concat(options.partial ? [neighbours.before, wire] : [neighbours.before, wire, neighbours.after]);
  const coalescedChunkings = [
    { label: "coalesced in one chunk", chunks: [coalesced] },
    ...randomSplits(coalesced, options.rng, 2).map((c) => ({ ...c, label: `coalesced, ${c.label}` })),
  ];
  for (const { label, chunks } of coalescedChunkings) {
    const result = runChunks(makeFramer(), chunks);
    const lead = result.frames.splice(0, before.length);
    if (!Bun.deepEquals(lead, before)) result.violations.push(`the neighbours before the wire framed as ${JSON.stringify(lead)}`);
    if (!options.partial && result.error === undefined) {
      const tail = result.frames.splice(result.frames.length - after.length, after.length);
      if (!Bun.deepEquals(tail, after)) result.violations.push(`the neighbours after the wire framed as ${JSON.stringify(tail)}`);
    }
    runs.push({ label, result });
  }
  return runs;
}
