// Signing in on the web page, in real Chromium: the terminal client's name
// rule and words, a name in use, and a protected name (ERROR 105) asking for
// its password, which is never sent in clear to another machine, and is over
// HTTPS (wss:).

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileAuthority } from "../../src/accounts/authority.ts";
import { hashPassword } from "../../src/accounts/hash.ts";
import { Browsers, remoteHost, until } from "../support/browser.ts";
import { testCertificate, testServer } from "../support/server.ts";

const cheap = { memoryCost: 1024, timeCost: 1 };
const dir = mkdtempSync(join(tmpdir(), "parley-web-accounts-"));
const path = join(dir, "accounts");
writeFileSync(path, `alice ${await hashPassword(new TextEncoder().encode("correct horse"), cheap)}\n`);
const { authority } = FileAuthority.open({ path, requireAccounts: false, maxClaimsPerAddress: 3, cost: cheap });

const server = testServer({}, await testCertificate(), { http: {}, https: {}, authority });
const address = `127.0.0.1:${server.httpPort}`;
const url = `http://${address}/`;
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
  rmSync(dir, { recursive: true, force: true });
});

async function tryName(pageUrl: string, name: string) {
  const page = await browsers.open(pageUrl);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

describe("signing in", () => {
  test("refuses a name that breaks the rule, in the terminal client's words, before connecting", async () => {
    for (const name of ["no way", "ALL", "bob!"]) {
      const page = await tryName(url, name);
      await until(page.locator("#sign-in-error"), `"${name}" is not a valid username: use 1 to 32 letters and digits (not ALL)`);
      expect(await page.locator("#chat").isHidden()).toBe(true);
      await browsers.release();
    }
    expect(server.connections).toBe(0);
  }, 30_000);

  test("says when the name is in use, whatever its case", async () => {
    await browsers.signIn(url, "bob");
    const second = await tryName(url, "BOB");
    await until(second.locator("#sign-in-error"), `the name "BOB" is already in use on ${address}; choose another`);
  }, 30_000);

  test("asks for the password of a protected name, says when it is wrong, and signs in with the right one", async () => {
    const page = await tryName(url, "alice");
    await until(page.locator("#sign-in-error"), `"alice" is protected by a password: enter it to sign in`);
    const password = page.getByLabel("Password", { exact: true });
    expect(await password.isVisible()).toBe(true);
    expect(await page.evaluate("document.activeElement.id")).toBe("password");
    await password.fill("wrong");
    await password.press("Enter");
    await until(page.locator("#sign-in-error"), `that is not the password of "alice"`);
    await password.fill("correct horse");
    await password.press("Enter");
    await until(page.locator("#status"), `connected to ${address} as alice`);
  }, 30_000);

  test("over plain HTTP to another host, sends no password and says to open the page over HTTPS", async () => {
    const remote = `http://${remoteHost}:${server.httpPort}/`;
    const page = await tryName(remote, "alice");
    await until(page.locator("#sign-in-error"), `"alice" needs a password, and this page sends one only over HTTPS or to this machine: open it over HTTPS instead (https://${remoteHost}:${server.httpPort}/)`);
    expect(await page.getByLabel("Password", { exact: true }).isVisible()).toBe(false);
    // A name without an account still signs in from there: only passwords are kept off the wire.
    await page.getByLabel("Name", { exact: true }).fill("carol");
    await page.getByRole("button", { name: "Sign in" }).click();
    await until(page.locator("#status"), `as carol`);
  }, 30_000);

  test("over HTTPS from another host, sends the password over wss: and signs in", async () => {
    const secure = `https://${remoteHost}:${server.httpsPort}/`;
    const page = await tryName(secure, "alice");
    await until(page.locator("#sign-in-error"), `"alice" is protected by a password: enter it to sign in`);
    await page.getByLabel("Password", { exact: true }).fill("correct horse");
    await page.getByLabel("Password", { exact: true }).press("Enter");
    await until(page.locator("#status"), `connected to ${remoteHost}:${server.httpsPort} as alice`);
  }, 30_000);
});
