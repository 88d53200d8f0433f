// The web client's connection through a server that dies and comes back on
// the same port, in real Chromium: a message waiting for its answer is marked
// not delivered, the page says it is reconnecting, and it comes back by itself.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Browsers, say, until } from "../support/browser.ts";
import { registered, type Peer } from "../support/peer.ts";
import { freePort, spawnServer, type Child } from "../support/process.ts";

let browsers: Browsers;
const running: (Child | Peer)[] = [];

beforeAll(async () => {
  browsers = await Browsers.launch();
});

afterEach(async () => {
  expect(await browsers.release()).toEqual([]);
  for (const each of running.splice(0)) "proc" in each ? await each[Symbol.asyncDispose]() : each.close();
});

afterAll(() => browsers.close());

describe("the web session", () => {
  test("marks what was in flight not delivered when the server dies, says so, and reconnects when it is back", async () => {
    const httpPort = freePort();
    const first = await spawnServer(["--http-port", String(httpPort)]);
    running.push(first);
    const url = `http://127.0.0.1:${httpPort}/`;
    const alice = await browsers.signIn(url, "alice");
    // dave never answers his FORWARDs, so alice's message waits for its answer.
    const dave = await registered(first.port, "dave");
    running.push(dave);
    await say(alice, "@dave are you there?");
    await until(alice.locator(".message.sent[data-state=sending]"), "are you there?");
    first.kill("SIGKILL");
    await until(alice.locator(".message.sent[data-state=failed]"), "not delivered: the connection was lost before the answer");
    await until(alice.locator("#status[data-state=reconnecting]"), /connection lost: .*; (reconnecting|next try) in/);
    const second = await spawnServer(["--http-port", String(httpPort)]);
    running.push(second);
    await until(alice.locator("#status[data-state=connected]"), `reconnected to 127.0.0.1:${httpPort} as alice`, 15_000);
    await say(alice, "@alice back again");
    await until(alice.locator(".message.sent[data-state=delivered]"), "back again");
  }, 40_000);
});
