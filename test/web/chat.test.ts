// The web client in real Chromium against a real server: browsers chat with
// each other and with the terminal client, broadcasts reach both, every
// message shows its receipt, unread counts follow, and what people send is
// only ever shown as text.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Child, fromSource } from "../support/process.ts";
import { Browsers, conversationButton, messages, say, until, type WatchedPage } from "../support/browser.ts";
import { testServer } from "../support/server.ts";

const server = testServer({}, undefined, { http: {} });
const url = `http://127.0.0.1:${server.httpPort}/`;
let browsers: Browsers;
const children: Child[] = [];

beforeAll(async () => {
  browsers = await Browsers.launch();
});

afterEach(async () => {
  expect(await browsers.release()).toEqual([]);
  for (const child of children.splice(0)) await child[Symbol.asyncDispose]();
});

afterAll(async () => {
  await browsers.close();
  await server.stop();
});

function person(name: string): Promise<WatchedPage> {
  return browsers.signIn(url, name);
}

/** `parley client` from source, listening, printing JSON events; its stdin stays open for lines to send. */
async function terminal(name: string): Promise<Child> {
  const child = new Child([...fromSource, "client", "--host", "127.0.0.1", "--port", String(server.port), "--user", name, "--json", "--listen"], { stdin: "pipe" });
  children.push(child);
  await child.line("stdout", '"event":"connected"');
  return child;
}

describe("the web client", () => {
  test("two browser users chat both ways, and each sees the receipt", async () => {
    const [alice, bob] = [await person("alice"), await person("bob")];
    await say(alice, "@bob hello bob");
    await until(messages(alice), "hello bob");
    await until(alice.locator(".message.sent[data-state=delivered]"), "hello bob");
    await conversationButton(bob, "alice").click();
    await until(messages(bob).locator(".body"), "hello bob");
    expect(await messages(bob).first().locator(".from").textContent()).toBe("alice");
    expect(await messages(bob).first().locator("time").getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);
    // In alice's conversation a plain line goes to alice.
    await say(bob, "hi alice");
    await until(bob.locator(".message.sent[data-state=delivered]"), "hi alice");
    await conversationButton(alice, "bob").click();
    await until(messages(alice).locator(".body"), "hi alice");
  }, 30_000);

  test("a browser user and a terminal user chat both ways", async () => {
    const alice = await person("alice");
    const carol = await terminal("carol");
    await say(alice, "@carol hi from the browser");
    await carol.line("stdout", '"event":"received","from":"alice","text":"hi from the browser"');
    await until(alice.locator(".message.sent[data-state=delivered]"), "hi from the browser");
    carol.write("@alice hi from the terminal\n");
    await carol.line("stdout", '"event":"delivered","line":1,"to":"alice","text":"hi from the terminal"');
    await until(messages(alice).locator(".body"), "hi from the terminal");
  }, 30_000);

  test("a broadcast reaches browsers and terminals, and says delivered once all confirmed", async () => {
    const [alice, bob] = [await person("alice"), await person("bob")];
    const carol = await terminal("carol");
    await say(alice, "@ALL hello everyone");
    await carol.line("stdout", '"from":"alice","text":"hello everyone"');
    await until(alice.locator(".message.sent[data-state=delivered]"), "hello everyone");
    expect(await alice.locator("#conversation-title").textContent()).toBe("Everyone");
    // docs/protocol.md D55: a FORWARD does not say it was a broadcast, so bob files it under alice.
    await conversationButton(bob, "alice").click();
    await until(messages(bob).locator(".body"), "hello everyone");
  }, 30_000);

  test("a message nobody can take says not delivered, with the server's reason, in words and to assistive technology", async () => {
    const alice = await person("alice");
    await say(alice, "@nobody are you there?");
    const failed = alice.locator(".message.sent[data-state=failed]");
    await until(failed, "not delivered: not online");
    expect(await failed.locator(".receipt").getAttribute("aria-label")).toBe("not delivered to nobody: not online");
    expect(await failed.locator(".receipt").getAttribute("role")).toBe("status");
    const bob = await person("bob");
    await say(alice, "@bob now you are");
    await until(alice.locator(".message.sent[data-state=delivered]"), "now you are");
    expect(await alice.locator(".message.sent[data-state=delivered] .receipt").getAttribute("aria-label")).toBe("delivered to bob");
    expect(bob.problems).toEqual([]);
  }, 30_000);

  test("a message made of HTML and script is shown as text and runs nothing", async () => {
    const [alice, bob] = [await person("alice"), await person("bob")];
    const hostile = `<img src=x onerror="window.pwned=1;alert(1)"><script>window.pwned=2;alert(2)</script><b>bold</b>`;
    await say(bob, `@alice ${hostile}`);
    await until(bob.locator(".message.sent[data-state=delivered]"), "<b>bold</b>");
    await conversationButton(alice, "bob").click();
    await until(messages(alice).locator(".body"), "<b>bold</b>");
    expect(await messages(alice).locator(".body").textContent()).toBe(hostile);
    expect(await alice.locator(".log img, .log script, .log b").count()).toBe(0);
    expect(await alice.evaluate("window.pwned")).toBeUndefined();
    // A dialog would have been recorded as a problem by the page's watch (checked after each test).
  }, 30_000);

  test("counts unread messages per conversation and in the tab title, until the conversation is opened", async () => {
    const [alice, bob] = [await person("alice"), await person("bob")];
    await say(alice, "@bob one");
    await say(alice, "@bob two");
    await until(alice.locator(".message.sent[data-state=delivered]"), "two");
    const badge = conversationButton(bob, "alice").locator(".unread");
    await until(badge, "2");
    expect(await bob.title()).toBe("(2) bob · parley");
    await conversationButton(bob, "alice").click();
    await badge.waitFor({ state: "hidden" });
    expect(await bob.title()).toBe("bob · parley");
  }, 30_000);

  test("works from the keyboard: Enter signs in and sends, and choosing a conversation puts the cursor in the message box", async () => {
    const alice = await person("alice");
    const bob = await browsers.open(url);
    await bob.getByLabel("Name", { exact: true }).press("b");
    await bob.keyboard.type("ob");
    await bob.keyboard.press("Enter");
    await until(bob.locator("#status"), "as bob");
    expect(await bob.evaluate("document.activeElement.id")).toBe("message");
    await bob.keyboard.type("@alice typed, not clicked");
    await bob.keyboard.press("Enter");
    await until(bob.locator(".message.sent[data-state=delivered]"), "typed, not clicked");
    await conversationButton(alice, "bob").focus();
    await alice.keyboard.press("Enter");
    expect(await alice.evaluate("document.activeElement.id")).toBe("message");
    expect(await alice.locator("#conversation-title").textContent()).toBe("bob");
    for (const control of await alice.locator("button, input").all()) {
      if (!(await control.isVisible())) continue;
      const name = (await control.getAttribute("aria-label")) ?? (await control.evaluate("(el) => el.labels?.[0]?.textContent ?? el.textContent"));
      expect(String(name).trim(), await control.evaluate("(el) => el.outerHTML")).not.toBe("");
    }
  }, 30_000);
});
