// The web client as the HTTP listener serves it: the page at / with its
// bundled script, style and icon, a strict Content-Security-Policy, gzip and
// caching, nothing from any other host, and 404 for anything else.

import { afterAll, describe, expect, test } from "bun:test";
import { contentSecurityPolicy } from "../../src/transports/web-page.ts";
import { testServer } from "../support/server.ts";

const server = testServer({}, undefined, { http: {} });
const base = `http://127.0.0.1:${server.httpPort}`;

afterAll(() => server.stop());

/** The page's own references: every src and href in it. */
async function references(): Promise<string[]> {
  const html = await (await fetch(`${base}/`)).text();
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]!);
}

describe("the web client over HTTP", () => {
  test("serves the page at / with a strict Content-Security-Policy", async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const policy = page.headers.get("content-security-policy")!;
    expect(policy).toBe(contentSecurityPolicy(`127.0.0.1:${server.httpPort}`));
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain(`connect-src 'self' ws://127.0.0.1:${server.httpPort} wss://127.0.0.1:${server.httpPort}`);
    expect(policy).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await page.text();
    expect(html).toContain('<label for="name">Name</label>');
    // No inline script: the policy would refuse it, so the page must not need one.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  test("serves the script, style and icon the page names, all from this origin", async () => {
    const refs = await references();
    expect(refs.length).toBe(3);
    for (const ref of refs) {
      expect(ref, "a path on this server").toMatch(/^\.?\/[\w.-]+$/);
      const asset = await fetch(new URL(ref, `${base}/`));
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get("cache-control"), ref).toContain("immutable");
    }
    const types = await Promise.all(refs.map(async (ref) => (await fetch(new URL(ref, `${base}/`))).headers.get("content-type")));
    expect(types.some((type) => type?.startsWith("text/javascript"))).toBe(true);
    expect(types.some((type) => type?.startsWith("text/css"))).toBe(true);
    const script = refs.find((ref) => ref.endsWith(".js"))!;
    const code = await (await fetch(new URL(script, `${base}/`))).text();
    // Bundled for the browser: the protocol's encoder is in it, the server's runtime is not.
    expect(code).toContain("Content-length");
    expect(code).not.toMatch(/\bBun\.|node:/);
    // It names no other host to load from or talk to.
    expect(code).not.toMatch(/(?:https?|wss?):\/\/[\w-]+\.[\w.-]+/);
  });

  test("sends gzip to a browser that takes it, and 304 to one that has the page", async () => {
    const raw = await fetch(`${base}/`, { headers: { "accept-encoding": "identity" }, decompress: false });
    const rawBytes = new Uint8Array(await raw.arrayBuffer());
    expect(raw.headers.get("content-encoding")).toBeNull();
    const zipped = await fetch(`${base}/`, { headers: { "accept-encoding": "gzip, br" }, decompress: false });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer()))).toEqual(rawBytes);
    const again = await fetch(`${base}/`, { headers: { "if-none-match": raw.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  test("answers 404 for any other path and for other methods", async () => {
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/index.html`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(404);
  });

  test("names the WebSocket in the policy except for an IPv6 literal, which 'self' covers", () => {
    expect(contentSecurityPolicy("chat.example.org")).toContain("ws://chat.example.org wss://chat.example.org");
    expect(contentSecurityPolicy("[::1]:5080")).toContain("connect-src 'self';");
  });
});
