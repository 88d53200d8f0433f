// Who is online, on the web page in real Chromium (docs/protocol.md D51-D53):
// the list from WHO, then arrivals and departures as they happen, browsers
// and terminal users alike.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Browsers, conversationButton, until } from "../support/browser.ts";
import { registered, type Peer } from "../support/peer.ts";
import { testServer } from "../support/server.ts";

const server = testServer({}, undefined, { http: {} });
const url = `http://127.0.0.1:${server.httpPort}/`;
let browsers: Browsers;
const peers: Peer[] = [];

beforeAll(async () => {
  browsers = await Browsers.launch();
});

afterEach(async () => {
  expect(await browsers.release()).toEqual([]);
  for (const peer of peers.splice(0)) peer.close();
});

afterAll(async () => {
  await browsers.close();
  await server.stop();
});

describe("who is online", () => {
  test("lists who is there on signing in, adds arrivals, and marks who leaves offline", async () => {
    const carol = await registered(server.port, "carol");
    peers.push(carol);
    const alice = await browsers.signIn(url, "alice");
    await until(alice.locator("#online"), "1 online");
    await until(conversationButton(alice, "carol").locator(".presence"), "online");
    const bob = await browsers.signIn(url, "bob");
    await until(alice.locator("#online"), "2 online");
    await until(conversationButton(alice, "bob").locator(".presence"), "online");
    // bob sees both who were there before him.
    await until(bob.locator("#online"), "2 online");
    // A terminal user leaves, then a browser user signs out.
    carol.close();
    await until(conversationButton(alice, "carol").locator(".presence"), "offline");
    await until(alice.locator("#online"), "1 online");
    await bob.getByRole("button", { name: "Sign out" }).click();
    await until(conversationButton(alice, "bob").locator(".presence"), "offline");
    await until(alice.locator("#online"), "0 online");
    expect(await conversationButton(alice, "bob").getAttribute("aria-current")).toBeNull();
  }, 30_000);
});
