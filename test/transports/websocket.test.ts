// The WebSocket transport and the HTTP listener (docs/protocol.md D44-D48)
// over real sockets on 127.0.0.1: chat across transports, the framing rule,
// close codes, the Origin check and /healthz through a shutdown.

import { afterEach, expect, test } from "bun:test";
import { startServer, type RunningServer } from "../../src/server.ts";
import { Peer, register, registered } from "../support/peer.ts";

const servers: RunningServer[] = [];
const peers: Peer[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  for (const server of servers.splice(0)) await server.stop();
});

function serve(limits = {}, allowOrigins?: string[]): RunningServer {
  const server = startServer({ hostname: "127.0.0.1", port: 0, limits, http: { port: 0, allowOrigins } });
  servers.push(server);
  return server;
}

const wsUrl = (server: RunningServer) => `ws://127.0.0.1:${server.httpPort}/ws`;

async function wsUser(server: RunningServer, name: string): Promise<Peer> {
  const peer = await Peer.connectWebSocket(wsUrl(server), name);
  peers.push(peer);
  await register(peer, "TOSEND", name);
  await register(peer, "TORECV", name);
  return peer;
}

test("two WebSocket users chat, both roles on one connection, with receipts", async () => {
  const server = serve();
  const [alice, bob] = [await wsUser(server, "alice"), await wsUser(server, "bob")];
  alice.send("SEND bob\nContent-length: 5\n\nhello");
  await bob.receives("FORWARD alice\nContent-length: 5\n\nhello");
  bob.send("RECEIVED alice\n\n");
  await alice.receives("SENT bob\n\n");
});

test("a WebSocket user and a TCP user chat both ways", async () => {
  const server = serve();
  const web = await wsUser(server, "web");
  const tcp = await registered(server.port, "tcp");
  peers.push(tcp);
  web.send("SEND tcp\nContent-length: 2\n\nhi");
  await tcp.receives("FORWARD web\nContent-length: 2\n\nhi");
  tcp.send("RECEIVED web\n\n");
  await web.receives("SENT tcp\n\n");
  tcp.send("SEND web\nContent-length: 3\n\nyo!");
  await web.receives("FORWARD tcp\nContent-length: 3\n\nyo!");
  web.send("RECEIVED tcp\n\n");
  await tcp.receives("SENT web\n\n");
});

test("takes a text message, with trailing empty lines", async () => {
  const server = serve();
  const ws = new WebSocket(wsUrl(server));
  await new Promise((resolve) => (ws.onopen = resolve));
  const reply = new Promise<MessageEvent>((resolve) => (ws.onmessage = resolve));
  ws.send("REGISTER TOSEND alice\r\n\r\n\n\n");
  expect(await new Response((await reply).data).text()).toBe("REGISTERED TOSEND alice\n\n");
  ws.close();
});

test("a message over the header + body limits is closed with 1009", async () => {
  const server = serve({ maxBodyBytes: 1024, maxHeaderBytes: 256 });
  const alice = await wsUser(server, "alice");
  alice.send(`SEND alice\nContent-length: 1400\n\n${"x".repeat(1400)}`);
  await alice.closes();
  expect(alice.closeCode).toBe(1009);
});

for (const [what, message] of [
  ["half a message", "SEND bob\nContent-length: 5\n\nhel"],
  ["two messages", "REGISTER TOSEND a\n\nREGISTER TORECV a\n\n"],
  ["no message at all", "\n\n"],
] as const) {
  test(`${what} in one WebSocket message gets ERROR 103, then close 1002`, async () => {
    const server = serve();
    const ws = new WebSocket(wsUrl(server));
    ws.binaryType = "arraybuffer";
    await new Promise((resolve) => (ws.onopen = resolve));
    const received: string[] = [];
    ws.onmessage = (event) => received.push(new TextDecoder().decode(event.data as ArrayBuffer));
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.send(new TextEncoder().encode(message));
    expect((await closed).code).toBe(1002);
    expect(received).toEqual(["ERROR 103 Header incomplete\n\n"]);
  });
}

test("upgrades only from the server's own origin or an allowed one", async () => {
  const server = serve({}, ["https://chat.example.org"]);
  const own = `http://127.0.0.1:${server.httpPort}`;
  for (const origin of [own, "https://chat.example.org"]) {
    const peer = await Peer.connectWebSocket(wsUrl(server), origin, { Origin: origin });
    peers.push(peer);
  }
  const refused = await fetch(`${own}/ws`, {
    headers: { Origin: "https://evil.example", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" },
  });
  expect(refused.status).toBe(403);
  await expect(Peer.connectWebSocket(wsUrl(server), "evil", { Origin: "https://evil.example" })).rejects.toThrow();
});

test("/healthz is 200 with counts while serving, 503 once stop began", async () => {
  // One 16 MiB FORWARD to a user who stops reading holds the stop open (its close grace) while /healthz is asked.
  const size = 16 * 1024 * 1024;
  const server = serve({ maxBodyBytes: size, burstBytes: 4 * size, rateBytes: 4 * size, maxQueuedBytes: 4 * size });
  const health = `http://127.0.0.1:${server.httpPort}/healthz`;
  const alice = await registered(server.port, "alice");
  peers.push(alice);
  const ok = await fetch(health);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ status: "ok", connections: 1, users: 1 });
  alice.send(`SEND alice\nContent-length: ${size}\n\n`);
  alice.send(new Uint8Array(size));
  await alice.receives(`FORWARD alice\nContent-length: ${size}\n\n`, 10_000);
  alice.pause();
  const stopped = server.stop();
  const stopping = await fetch(health);
  expect(stopping.status).toBe(503);
  expect(await stopping.json()).toEqual({ status: "stopping" });
  await stopped;
});
