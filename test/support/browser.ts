// A real browser for the web client's tests: Debian's Chromium driven by
// playwright-core (which downloads nothing), one browser per test file, one
// context per person. Every page is watched for what must never happen: a
// script error, a Content-Security-Policy violation, a request to another host.

import { existsSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";

/** The Chromium binary (the /usr/bin/chromium wrapper may print noise before starting it). */
export function chromiumPath(): string {
  const found = ["/usr/lib/chromium/chromium", Bun.which("chromium"), Bun.which("chromium-browser")].find((path): path is string => path !== null && existsSync(path));
  if (found === undefined) throw new Error("the web tests need Chromium: run  apt-get install -y chromium  (bun run test does it as root)");
  return found;
}

/** `parley.test` resolves to 127.0.0.1 in this browser: a host that is not loopback by name. */
export const remoteHost = "parley.test";

export type PageOptions = {
  readonly viewport?: { readonly width: number; readonly height: number };
  readonly colorScheme?: "light" | "dark";
};

/** A page that records what must never happen on it, since it was last handed out. */
export type WatchedPage = Page & { readonly problems: string[] };

type Pooled = { readonly page: WatchedPage; readonly key: string; origin: string; busy: boolean };

/**
 * One browser for a test file, and its pages, reused from test to test (a
 * new page costs about a second here; a navigation a fraction of it). Each
 * page has its own context: no storage is shared between people.
 */
export class Browsers {
  readonly browser: Browser;
  readonly #pool: Pooled[] = [];

  private constructor(browser: Browser) {
    this.browser = browser;
  }

  static async launch(): Promise<Browsers> {
    return new Browsers(await chromium.launch({ executablePath: chromiumPath(), args: [`--host-resolver-rules=MAP ${remoteHost} 127.0.0.1`] }));
  }

  /** A page, as a new person, with `url` open. */
  async open(url: string, options: PageOptions = {}): Promise<WatchedPage> {
    const viewport = options.viewport ?? { width: 1280, height: 800 };
    const colorScheme = options.colorScheme ?? "light";
    const key = `${viewport.width}x${viewport.height} ${colorScheme}`;
    const pooled = this.#pool.find((each) => !each.busy && each.key === key) ?? (await this.#add(key, viewport, colorScheme));
    pooled.busy = true;
    pooled.origin = new URL(url).origin;
    pooled.page.problems.length = 0;
    await pooled.page.goto(url);
    return pooled.page;
  }

  /** Opens the page and signs in as `name`; resolves once the chat says it is connected. */
  async signIn(url: string, name: string, options: PageOptions = {}): Promise<WatchedPage> {
    const page = await this.open(url, options);
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Sign in" }).click();
    await until(page.locator("#status"), `connected to ${new URL(url).host} as ${name}`);
    return page;
  }

  /** After a test: every page handed out leaves (its WebSocket closes) and returns what went wrong on it. */
  async release(): Promise<string[]> {
    const problems: string[] = [];
    for (const pooled of this.#pool.filter((each) => each.busy)) {
      problems.push(...pooled.page.problems);
      await pooled.page.goto("about:blank");
      pooled.busy = false;
    }
    return problems;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  async #add(key: string, viewport: NonNullable<PageOptions["viewport"]>, colorScheme: "light" | "dark"): Promise<Pooled> {
    // The tests' HTTPS listeners use a self-signed certificate.
    const context = await this.browser.newContext({ viewport, colorScheme, ignoreHTTPSErrors: true });
    const page = Object.assign(await context.newPage(), { problems: [] as string[] });
    const pooled: Pooled = { page, key, origin: "", busy: false };
    page.on("pageerror", (error) => page.problems.push(`script error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) page.problems.push(`CSP: ${message.text()}`);
    });
    page.on("dialog", (dialog) => {
      page.problems.push(`a dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("request", (request) => {
      const target = new URL(request.url());
      if (target.protocol === "about:") return;
      if (target.origin !== pooled.origin && target.origin !== pooled.origin.replace(/^http/, "ws")) page.problems.push(`request to another origin: ${request.url()}`);
    });
    this.#pool.push(pooled);
    return pooled;
  }
}

/** Waits (with a deadline) until `locator` holds an element whose text contains `text`. */
export async function until(locator: Locator, text: string | RegExp, timeout = 5000): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout });
}

/** Types into the message box and presses Enter, as a person would. */
export async function say(page: Page, line: string): Promise<void> {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(line);
  await box.press("Enter");
}

/** The conversation button for `name` in the list ("Everyone" for ALL). */
export function conversationButton(page: Page, name: string): Locator {
  return page.locator("#roster button").filter({ has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) });
}

/** The message items of the open conversation. */
export function messages(page: Page): Locator {
  return page.locator(".log:not([hidden]) .message");
}

