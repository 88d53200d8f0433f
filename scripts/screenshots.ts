// `bun run screenshots`: the README's pictures of the web client, made in real
// Chromium against a real server: docs/web-390.png (a phone) and
// docs/web-1280.png (a laptop). A short chat among browser users and
// terminal users, with both kinds of receipt, unread counts and who is online.

import { join } from "node:path";
import { Browsers, conversationButton, say, until } from "../test/support/browser.ts";
import { registered } from "../test/support/peer.ts";
import { root } from "../test/support/process.ts";
import { testServer } from "../test/support/server.ts";

const browsers = await Browsers.launch();
try {
  for (const [width, height] of [[390, 844], [1280, 800]] as const) {
    await using server = testServer({}, undefined, { http: {} });
    const url = `http://127.0.0.1:${server.httpPort}/`;
    // carol and dave are on the terminal: raw connections that confirm what they get.
    const [carol, dave] = [await registered(server.port, "carol"), await registered(server.port, "dave")];
    for (const peer of [carol, dave]) {
      peer.listen({ message: (message) => message.verb === "FORWARD" && peer.send(`RECEIVED ${message.arg}\n\n`), garbled: () => {}, closed: () => {} });
    }
    const send = (peer: typeof carol, text: string) => peer.send(`SEND alice\nContent-length: ${new TextEncoder().encode(text).length}\n\n${text}`);
    const bob = await browsers.signIn(url, "bob");
    const alice = await browsers.signIn(url, "alice", { viewport: { width, height } });
    await say(alice, "@dave the release is out");
    await until(alice.locator(".message.sent[data-state=delivered]"), "release");
    send(dave, "thanks! trying it now");
    await until(alice.locator(".message.received"), "trying it");
    await say(bob, "@alice morning! did the build pass?");
    send(carol, "lunch at one?");
    await until(conversationButton(alice, "carol").locator(".unread"), "1");
    await until(conversationButton(alice, "bob").locator(".unread"), "1");
    dave.close();
    await until(conversationButton(alice, "dave").locator(".presence"), "offline");
    await say(alice, "did it work?");
    await until(alice.locator(".message.sent[data-state=failed]"), "not online");
    await alice.screenshot({ path: join(root, "docs", `web-${width}.png`) });
    await browsers.release();
    carol.close();
    console.log(`docs/web-${width}.png`);
  }
} finally {
  await browsers.close();
}
