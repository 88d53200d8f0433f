// Seeded fuzz for the framer (STYLE.md §9) that fails, not just prints
// statistics. (a) Random valid streams, cut at random points, must frame
// exactly as in one chunk and as generated. (b) Random garbage in random chunks
// must never throw, must fail only with a sticky ERROR 103, and must never make
// the framer hold more than maxHeaderBytes + maxBodyBytes. Every failure names
// its seed. The default seed is fixed so the suite is deterministic;
// PARLEY_SEED=<seed> replays or explores another, PARLEY_FUZZ_INPUTS sets the count of (b).

import { describe, expect, test } from "bun:test";
import { ErrorCode, errorText, ProtocolError } from "../../src/protocol/errors.ts";
import { Framer } from "../../src/protocol/framer.ts";
import { defaultLimits, type FramerLimits } from "../../src/protocol/limits.ts";
import { decodeClientHead, decodeServerHead, type ClientHead, type ServerHead } from "../../src/protocol/messages.ts";
import { randomCuts, runChunks, type Frame } from "../support/feed.ts";
import { rng, seedFromEnv, type Rng } from "../support/prng.ts";
import { concat } from "../support/peer.ts";

type Head = ClientHead | ServerHead;
type Side = "client" | "server";

const seed = seedFromEnv("PARLEY_SEED", 0xf022);
const streams = 10_000;
const garbageInputs = inputsFromEnv("PARLEY_FUZZ_INPUTS", 100_000);
const defaults: FramerLimits = { maxHeaderBytes: defaultLimits.maxHeaderBytes, maxBodyBytes: defaultLimits.maxBodyBytes };
const small: FramerLimits = { maxHeaderBytes: 64, maxBodyBytes: 100 };

const utf8 = new TextEncoder();

function inputsFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const count = Number(raw);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`${name}=${raw} is not a positive count`);
  return count;
}
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function cutAt(wire: Uint8Array, points: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, wire.length]) {
    chunks.push(wire.slice(at, p));
    at = p;
  }
  return chunks;
}

function framer(side: Side, limits: FramerLimits): Framer<Head> {
  return new Framer<Head>(limits, side === "client" ? decodeClientHead : decodeServerHead);
}

function randomName(r: Rng): string {
  let name = "";
  for (let n = 1 + (r.chance(0.1) ? 31 : r.int(12)); n > 0; n--) name += alnum[r.int(alnum.length)];
  return name;
}

const bodyPieces = ["\n\n", "\r\n\r\n", "\n \t\n", "SEND bob\nContent-length: 3\n\n", "REGISTER TOSEND eve\n\n", "ERROR 103 Header incomplete\n\n", "FORWARD x\n\n", "héllo", "👋🏽", "中文", "Content-length: 99\n"];

function randomBody(r: Rng, maxBody: number): Uint8Array {
  const size = r.chance(0.15) ? 0 : r.chance(0.05) ? r.int(Math.min(maxBody, 4000) + 1) : r.int(Math.min(maxBody, 80) + 1);
  if (r.chance(0.4)) return r.bytes(size);
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < size) {
    const part = r.chance(0.5) ? utf8.encode(r.pick(bodyPieces)) : utf8.encode(randomName(r));
    parts.push(part);
    total += part.length;
  }
  return concat(parts).subarray(0, size);
}

function randomCase(r: Rng, text: string): string {
  const style = r.int(4);
  if (style === 0) return text;
  if (style === 1) return text.toLowerCase();
  if (style === 2) return text.toUpperCase();
  return [...text].map((c) => (r.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join("");
}

const eol = (r: Rng): string => (r.chance(0.3) ? "\r\n" : "\n");
const trailing = (r: Rng): string => (r.chance(0.15) ? r.pick([" ", "\t", "  ", " \t "]) : "");

/** One random valid message as wire bytes and the frame the framer must make of it. */
function randomMessage(r: Rng, side: Side, maxBody: number): { wire: Uint8Array; frame: Frame<Head> } {
  const kind = r.int(5);
  let body: Uint8Array = new Uint8Array(0);
  let first: string;
  let needsLength = false;
  let head: Head;
  const withBody = (): void => {
    body = randomBody(r, maxBody);
  };
  if (side === "client") {
    if (kind === 0) {
      const role = r.pick(["TOSEND", "TORECV"] as const);
      const name = r.chance(0.05) ? "" : randomName(r);
      first = name === "" ? `REGISTER ${role}` : `REGISTER ${role} ${name}`;
      head = { verb: "REGISTER", role, name, length: 0 };
    } else if (kind <= 2) {
      const to = r.chance(0.1) ? "ALL" : randomName(r);
      first = `SEND ${to}`;
      needsLength = true;
      withBody();
      head = { verb: "SEND", to, length: 0 };
    } else if (kind === 3) {
      const from = r.chance(0.05) ? "" : randomName(r);
      first = from === "" ? "RECEIVED" : `RECEIVED ${from}`;
      head = { verb: "RECEIVED", from, length: 0 };
    } else {
      first = `ERROR 103 ${errorText[ErrorCode.HeaderIncomplete]}`;
      head = { verb: "ERROR", code: 103, text: errorText[ErrorCode.HeaderIncomplete], length: 0 };
    }
  } else {
    if (kind === 0) {
      const role = r.pick(["TOSEND", "TORECV"] as const);
      const name = randomName(r);
      first = `REGISTERED ${role} ${name}`;
      head = { verb: "REGISTERED", role, name, length: 0 };
    } else if (kind <= 2) {
      const from = randomName(r);
      first = `FORWARD ${from}`;
      needsLength = true;
      withBody();
      head = { verb: "FORWARD", from, length: 0 };
    } else if (kind === 3) {
      const to = r.chance(0.1) ? "ALL" : randomName(r);
      first = `${r.chance(0.3) ? "SEND" : "SENT"} ${to}`;
      head = { verb: "SENT", to, length: 0 };
    } else {
      const code = r.pick([100, 101, 102, 103, 104] as const);
      first = `ERROR ${code} ${errorText[code]}`;
      head = { verb: "ERROR", code, text: errorText[code], length: 0 };
    }
  }
  // PROTOCOL.md §1: any message may carry a body, read and ignored.
  if (!needsLength && r.chance(0.1)) withBody();
  const hasLength = needsLength || body.length > 0 || r.chance(0.05);

  const fields: string[] = [];
  const lengthField = (): string => {
    const zeros = "0".repeat(r.chance(0.1) ? r.int(15 - String(body.length).length + 1) : 0);
    return `${randomCase(r, "Content-length")}:${r.pick(["", " ", " ", "\t", "  \t"])}${zeros}${body.length}`;
  };
  if (hasLength) fields.push(lengthField());
  if (hasLength && r.chance(0.05)) fields.push(lengthField());
  for (let n = r.chance(0.2) ? 1 + r.int(3) : 0; n > 0; n--) {
    fields.splice(r.int(fields.length + 1), 0, `${randomCase(r, r.pick(["X-Client", "User-Agent", "X-Content-length-ish", "Date"]))}: ${r.pick(["", "nc", "a: b", randomName(r)])}`);
  }

  let text = "";
  for (let n = r.chance(0.1) ? 1 + r.int(3) : 0; n > 0; n--) text += r.pick(["\n", "\r\n", " \n", "\t\r\n"]);
  text += first + trailing(r) + eol(r);
  for (const field of fields) text += field + trailing(r) + eol(r);
  text += r.chance(0.1) ? r.pick([" \n", "\t\n", " \t\r\n"]) : eol(r);

  return { wire: concat([utf8.encode(text), body]), frame: { head: { ...head, length: body.length } as Head, body } };
}

function randomStream(r: Rng, side: Side, maxBody: number): { wire: Uint8Array; frames: Frame<Head>[] } {
  const messages = Array.from({ length: 1 + r.int(8) }, () => randomMessage(r, side, maxBody));
  return { wire: concat(messages.map((m) => m.wire)), frames: messages.map((m) => m.frame) };
}

const garbageTokens = [
  "SEND", "SENT", "REGISTER", "REGISTERED", "RECEIVED", "FORWARD", "ERROR", "send", "TOSEND", "TORECV", "ALL", "alice",
  " ", " ", "\t", "\n", "\n", "\r\n", "\r", "\n\n", "\n \n", ":", ": ", "Content-length", "content-LENGTH", "Content-length: ",
  "0", "1", "5", "64", "99", "100", "101", "9999999999999999", "-", "+", "X-a: b", "103", "Header incomplete",
];

/** Garbage of three kinds: random bytes, a soup of protocol tokens, and a valid stream with a few mutations. */
function randomGarbage(r: Rng, side: Side): Uint8Array {
  const kind = r.int(3);
  if (kind === 0) return r.bytes(r.int(200));
  if (kind === 1) {
    const parts: Uint8Array[] = [];
    for (let n = r.int(40); n > 0; n--) parts.push(r.chance(0.1) ? r.bytes(1 + r.int(4)) : utf8.encode(r.pick(garbageTokens)));
    return concat(parts);
  }
  let wire = randomStream(r, side, 150).wire;
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = r.int(wire.length + 1);
    const op = r.int(5);
    if (op === 0 && wire.length > 0) wire[Math.min(at, wire.length - 1)] = r.int(256);
    else if (op === 1) wire = concat([wire.subarray(0, at), utf8.encode(r.pick(garbageTokens)), wire.subarray(at)]);
    else if (op === 2) wire = concat([wire.subarray(0, at), wire.subarray(Math.min(wire.length, at + 1 + r.int(10)))]);
    else if (op === 3) wire = concat([wire.subarray(0, at), wire.subarray(Math.max(0, at - r.int(30))), wire.subarray(at)]);
    else wire = wire.slice(0, at);
  }
  return wire;
}

/** Text a person can paste back into a test: the bytes as a JSON latin1 string. */
const quote = (bytes: Uint8Array): string => JSON.stringify(Buffer.from(bytes).toString("latin1"));

describe("framer fuzz", () => {
  test(
    "frames 10,000 random valid streams cut at random points exactly as in one chunk",
    () => {
      const r = rng(seed);
      let checked = 0;
      for (let n = 0; n < streams; n++) {
        const side: Side = r.chance(0.75) ? "client" : "server";
        const { wire, frames } = randomStream(r, side, defaults.maxBodyBytes);
        const whole = runChunks(framer(side, defaults), [wire]);
        const where = `PARLEY_SEED=${seed} stream ${n} (${side}) ${quote(wire)}`;
        if (whole.error !== undefined || !Bun.deepEquals(whole.frames, frames)) {
          expect({ frames: whole.frames, error: whole.error?.message }, `${where}: one chunk`).toEqual({ frames, error: undefined });
        }
        for (let k = 0; k < 3; k++) {
          const cuts = k === 2 && n % 10 === 0 ? Array.from({ length: wire.length - 1 }, (_, i) => i + 1) : randomCuts(wire, r);
          const split = runChunks(framer(side, defaults), cutAt(wire, cuts));
          if (split.error !== undefined || split.violations.length > 0 || !Bun.deepEquals(split.frames, whole.frames)) {
            expect({ frames: split.frames, error: split.error?.message, violations: split.violations }, `${where}: cut at [${cuts.join(",")}]`).toEqual({
              frames: whole.frames,
              error: undefined,
              violations: [],
            });
          }
          checked++;
        }
      }
      expect(checked).toBe(3 * streams);
    },
    20_000,
  );

  test(
    "never throws on random garbage in random chunks, fails only with a sticky ERROR 103 and stays bounded",
    () => {
      const r = rng(seed ^ 0x5eed);
      let failures = 0;
      let framesSeen = 0;
      for (let n = 0; n < garbageInputs; n++) {
        const side: Side = r.chance(0.7) ? "client" : "server";
        const limits = r.chance(0.9) ? small : defaults;
        const input = randomGarbage(r, side);
        const cuts = randomCuts(input, r);
        const result = runChunks(framer(side, limits), cutAt(input, cuts));
        const problems = [...result.violations];
        if (result.error !== undefined) {
          failures++;
          if (!(result.error instanceof ProtocolError) || result.error.code !== ErrorCode.HeaderIncomplete) problems.push(`returned ${String(result.error)}`);
        }
        if (result.maxBuffered > limits.maxHeaderBytes + limits.maxBodyBytes) problems.push(`held ${result.maxBuffered} bytes`);
        for (const frame of result.frames) {
          if (frame.body.length !== frame.head.length || frame.head.length > limits.maxBodyBytes) problems.push(`framed ${JSON.stringify(frame.head)} with ${frame.body.length} body bytes`);
        }
        framesSeen += result.frames.length;
        if (problems.length > 0) {
          expect(problems, `PARLEY_SEED=${seed} garbage input ${n} (${side}, limits ${JSON.stringify(limits)}) ${quote(input)} cut at [${cuts.join(",")}]`).toEqual([]);
        }
      }
      // Guards against a generator that stopped producing anything interesting.
      if (garbageInputs < 1000) return;
      expect(failures, `PARLEY_SEED=${seed}`).toBeGreaterThan(garbageInputs / 4);
      expect(framesSeen, `PARLEY_SEED=${seed}`).toBeGreaterThan(garbageInputs / 10);
    },
    30_000 + garbageInputs / 10,
  );
});
