// The bus is trusted, so it is reached the way a private one is (docs/protocol.md
// D57): over TLS trusting a given CA, with a user and password from the
// environment, never from a URL on the command line.

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { joinCluster } from "../../src/cluster/node.ts";
import { silentEvents } from "../../src/core/events.ts";
import { startNats } from "../support/nats.ts";
import { Child, fromSource, spawnServer } from "../support/process.ts";
import { testCertificate } from "../support/server.ts";

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

test("joins a NATS that wants TLS and a password; a wrong password is refused with the reason", async () => {
  const tls = await testCertificate();
  const user = { name: "parley", password: "bus-s3cret" };
  const nats = await startNats(1, { tls, user });
  stops.push(() => nats.stop());
  const options = { servers: [nats.urls], port: 0, deliveryDeadlineMs: 1000, events: silentEvents, tls: { ca: tls.cert } };
  const node = await joinCluster({ ...options, node: "secure", user });
  stops.push(() => node.leave());
  expect(node.state()).toEqual({ node: "secure", connected: true, fenced: false, nodes: 1 });
  await expect(joinCluster({ ...options, node: "intruder", user: { name: "parley", password: "guess" } })).rejects.toThrow(/[Aa]uthorization/);
}, 20_000);

test("parley server --cluster with PARLEY_CLUSTER_USER and PARLEY_CLUSTER_PASSWORD over tls:// with --cluster-ca", async () => {
  const tls = await testCertificate();
  const user = { name: "parley", password: "bus-s3cret" };
  const nats = await startNats(1, { tls, user });
  stops.push(() => nats.stop());
  const dir = mkdtempSync(join(tmpdir(), "parley-ca-"));
  writeFileSync(join(dir, "ca.pem"), tls.cert);
  const server = await spawnServer(["--cluster", nats.urls, "--cluster-ca", join(dir, "ca.pem"), "--node-name", "cli-node"], {
    env: { PARLEY_CLUSTER_USER: user.name, PARLEY_CLUSTER_PASSWORD: user.password },
  });
  stops.push(() => server[Symbol.asyncDispose]());
  expect(server.stderr).toContain("cluster.joined node=cli-node");
}, 20_000);

test("a NATS URL with credentials in it is refused in one line, exit 2, before anything connects", async () => {
  const child = new Child([...fromSource, "server", "--cluster", "nats://parley:s3cret@127.0.0.1:4222"]);
  stops.push(() => child[Symbol.asyncDispose]());
  expect(await child.exit()).toBe(2);
  expect(child.stderr.trim().split("\n")).toEqual([expect.stringContaining("credentials do not belong in a URL")]);
});
