// The page's layout in real Chromium at a phone's width (390x844) and a
// laptop's (1280x800), light and dark: nothing wider than the screen, the
// message box in view, the system's colour scheme followed. Screenshots go to
// .test-output/web/ (not kept); `bun run screenshots` makes the README's.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Browsers, say, until, type WatchedPage } from "../support/browser.ts";
import { root } from "../support/process.ts";
import { testServer } from "../support/server.ts";

const server = testServer({}, undefined, { http: {} });
const url = `http://127.0.0.1:${server.httpPort}/`;
const output = join(root, ".test-output", "web");
let browsers: Browsers;

beforeAll(async () => {
  browsers = await Browsers.launch();
});

afterEach(async () => {
  expect(await browsers.release()).toEqual([]);
});

afterAll(async () => {
  await browsers.close();
  await server.stop();
});

/** Relative luminance of a computed `rgb(r, g, b)` colour, 0 (black) to 1 (white). */
function luminance(color: string): number {
  const [r = 0, g = 0, b = 0] = (color.match(/\d+(\.\d+)?/g) ?? []).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

async function expectFits(page: WatchedPage, width: number, height: number): Promise<void> {
  expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
  for (const control of [page.getByLabel("Message", { exact: true }), page.getByRole("button", { name: "Send" })]) {
    expect(await control.isVisible()).toBe(true);
    const box = (await control.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(width);
    expect(box.y + box.height).toBeLessThanOrEqual(height);
  }
}

describe("the layout", () => {
  for (const [width, height] of [[390, 844], [1280, 800]] as const) {
    for (const colorScheme of ["light", "dark"] as const) {
      test(`at ${width}x${height}, ${colorScheme}: nothing overflows sideways and the message box stays in view`, async () => {
        const viewport = { width, height };
        const bob = await browsers.signIn(url, `bob${width}${colorScheme}`, { viewport, colorScheme });
        const alice = await browsers.signIn(url, `alice${width}${colorScheme}`, { viewport, colorScheme });
        await say(alice, "@nobody this one cannot be delivered");
        await until(alice.locator(".message.sent[data-state=failed]"), "not delivered");
        // Long words, long names and many messages must wrap and scroll, not widen the page.
        await say(alice, `@${`bob${width}${colorScheme}`} ${"unbroken".repeat(40)}`);
        for (let i = 0; i < 12; i++) await say(alice, `line ${i} of a conversation long enough to scroll`);
        await until(alice.locator(".message.sent[data-state=delivered]"), "line 11");
        await expectFits(alice, width, height);
        const background = luminance(await alice.evaluate("getComputedStyle(document.body).backgroundColor"));
        expect(colorScheme === "dark" ? background < 0.2 : background > 0.8).toBe(true);
        await alice.screenshot({ path: join(output, `web-${width}-${colorScheme}.png`) });
        await expectFits(bob, width, height);
      }, 40_000);
    }
  }
});
