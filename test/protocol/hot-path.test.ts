// The hot path must give exactly the general decoder's answer whenever it
// answers at all, and must answer for the shapes it exists for.

import { describe, expect, test } from "bun:test";
import { decodeHotClientHead } from "../../src/protocol/hot-path.ts";
import { parseClientHead } from "../../src/protocol/messages.ts";
import { rng, seedFromEnv } from "../support/prng.ts";

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe("hot-path", () => {
  test.each([
    ["SEND bob\nContent-length: 5\n\n", { verb: "SEND", to: "bob", length: 5 }],
    ["SEND bob\ncontent-LENGTH:\t 0\n\n", { verb: "SEND", to: "bob", length: 0 }],
    ["SEND ALL\nContent-Length: 65536\n\n", { verb: "SEND", to: "ALL", length: 65536 }],
    ["RECEIVED alice\n\n", { verb: "RECEIVED", from: "alice", length: 0 }],
  ])("decodes %j itself", (wire, head) => {
    expect(decodeHotClientHead(latin1(wire))).toEqual(head as never);
  });

  test.each([
    "SEND bob \nContent-length: 5\n\n",
    "SEND bob\r\nContent-length: 5\r\n\r\n",
    "SEND bob\nContent-length: 5\nX: y\n\n",
    "SEND bob\nContent\rlength: 5\n\n",
    "SEND bob\nContent-length: -5\n\n",
    "SEND bob\nContent-length: 1234567890123456\n\n",
    "SEND \nContent-length: 5\n\n",
    "SEND a b\nContent-length: 5\n\n",
    "RECEIVED\n\n",
    "RECEIVED a \n\n",
    "REGISTER TOSEND bob\n\n",
  ])("leaves %j to the general decoder", (wire) => {
    expect(decodeHotClientHead(latin1(wire))).toBeUndefined();
  });

  test("agrees with the general decoder on 20,000 seeded near-miss blocks", () => {
    const seed = seedFromEnv("PARLEY_SEED", 0x5eed);
    const random = rng(seed);
    const pieces = ["SEND ", "RECEIVED ", "SEND", "bob", "B0b", "ALL", "\n", "\r\n", " ", "\t", "Content-length:", "content-LENGTH:", "Content_length:", ": ", "5", "00", "123", "-", "x", "\x7f", "\xe9", "\n\n"];
    for (let i = 0; i < 20_000; i++) {
      let wire = random.pick(["SEND bob\nContent-length: 5", "RECEIVED alice", ""]);
      for (let k = random.int(4); k > 0; k--) {
        const at = random.int(wire.length + 1);
        wire = wire.slice(0, at) + random.pick(pieces) + wire.slice(at + random.int(3));
      }
      const block = latin1(`${wire}\n\n`);
      const hot = decodeHotClientHead(block);
      if (hot !== undefined) expect(hot, `seed ${seed}, block ${JSON.stringify(wire)}`).toEqual(parseClientHead(block) as never);
    }
  });
});
