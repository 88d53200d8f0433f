// The web client as the HTTP listener serves it: the page, its script, style
// and icon, bundled by Bun from src/web (into the single binary at build time;
// from source once, on the first request), held in memory raw and gzipped,
// and sent with headers that let the page load nothing from anywhere else
// (docs/protocol.md D56).

import { basename } from "node:path";
import page from "../web/index.html";

export type WebAsset = {
  readonly type: string;
  readonly raw: Uint8Array;
  readonly gzip: Uint8Array;
  readonly etag: string;
  /** Named by its content's hash, so a browser may keep it for good; the page itself is not. */
  readonly immutable: boolean;
};

/** URL path -> asset; the page is at "/". */
export type WebAssets = ReadonlyMap<string, WebAsset>;

type Built = { readonly path: string; readonly type: string; readonly bytes: Uint8Array<ArrayBuffer>; readonly isPage: boolean };

let loading: Promise<WebAssets> | undefined;

/** The bundle, made (or read from the binary) once per process. */
export function webAssets(): Promise<WebAssets> {
  loading ??= load();
  return loading;
}

async function load(): Promise<WebAssets> {
  const built = page.files === undefined ? await bundleSource(page.index) : await readEmbedded(page.files);
  return new Map(
    built.map(({ path, type, bytes, isPage }) => [
      isPage ? "/" : `/${basename(path)}`,
      { type, raw: bytes, gzip: Bun.gzipSync(bytes, { level: 9 }), etag: `"${Bun.hash(bytes).toString(36)}"`, immutable: !isPage },
    ]),
  );
}

/** `bun build --compile` bundled the page into the binary; its files are in Bun's embedded file system. */
async function readEmbedded(files: NonNullable<typeof page.files>): Promise<Built[]> {
  return Promise.all(files.map(async (file) => ({ path: file.path, type: file.headers["content-type"], bytes: await Bun.file(file.path).bytes(), isPage: file.loader === "html" })));
}

/** From source: the same bundle as the binary's (minified, for browsers), made in memory. */
async function bundleSource(index: string): Promise<Built[]> {
  const result = await Bun.build({ entrypoints: [index], minify: true, target: "browser" });
  if (!result.success) throw new AggregateError(result.logs, "the web client did not build");
  return Promise.all(result.outputs.map(async (output) => ({ path: output.path, type: output.type, bytes: new Uint8Array(await output.arrayBuffer()), isPage: output.path.endsWith(".html") })));
}

/**
 * Scripts, styles, images and connections from this origin only (and its
 * WebSocket, named: not every browser counts ws: as 'self'); no inline
 * script, no frames, no plugins, no form posted anywhere.
 */
export function contentSecurityPolicy(host: string): string {
  // A CSP host source cannot be an IPv6 literal; 'self' still covers the page's own.
  const sockets = host.startsWith("[") ? "" : ` ws://${host} wss://${host}`;
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'${sockets}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/** One asset for `request`: gzipped when the browser takes it, 304 when it already has it. */
export function serveAsset(asset: WebAsset, request: Request, host: string): Response {
  const headers: Record<string, string> = {
    "content-type": asset.type,
    etag: asset.etag,
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    vary: "accept-encoding",
    "content-security-policy": contentSecurityPolicy(host),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(gzip ? asset.gzip : asset.raw, { headers });
}
