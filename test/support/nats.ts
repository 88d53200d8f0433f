// A real nats-server (Debian's, installed by `bun run test`) for the cluster
// tests: one server, or a cluster of three, each with JetStream in its own
// temporary directory, on ports the kernel picked. Stopping kills it; a
// server can be killed and restarted on the same ports, state kept.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, freePort } from "./process.ts";

export type NatsServer = {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no goodbye to clients or routes. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and storage. */
  restart(): Promise<void>;
};

export type NatsCluster = AsyncDisposable & {
  readonly servers: readonly NatsServer[];
  /** Every server's URL, comma-separated: what --cluster takes. */
  readonly urls: string;
  stop(): Promise<void>;
};

export type NatsOptions = {
  /** Clients must use TLS with this certificate (PEM texts). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Clients must log in as this user. */
  readonly user?: { readonly name: string; readonly password: string };
};

/** `count` nats-servers with JetStream; with more than one, routed as one NATS cluster. */
export async function startNats(count = 1, options: NatsOptions = {}): Promise<NatsCluster> {
  // Start over on new ports and storage when a port freePort() saw free was taken before nats-server bound
  // it, or when a new NATS cluster's first raft vote never settled (seen once in CI: routes created and
  // closed as duplicates, no metadata leader after 12 s).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(count, options);
    } catch (error) {
      const retry = String(error).includes("address already in use") || String(error).includes("metadata leader");
      if (attempt === 3 || !retry) throw error;
    }
  }
}

async function startOn(count: number, options: NatsOptions): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "parley-nats-"));
  const security: string[] = [];
  if (options.tls !== undefined) {
    writeFileSync(join(dir, "cert.pem"), options.tls.cert);
    writeFileSync(join(dir, "key.pem"), options.tls.key);
    security.push("--tls", "--tlscert", join(dir, "cert.pem"), "--tlskey", join(dir, "key.pem"));
  }
  if (options.user !== undefined) security.push("--user", options.user.name, "--pass", options.user.password);
  const ports = Array.from({ length: count }, () => ({ client: freePort(), route: freePort() }));
  const routes = ports.map((each) => `nats://127.0.0.1:${each.route}`).join(",");
  const children: (Child | undefined)[] = [];

  const launch = async (i: number): Promise<void> => {
    const { client, route } = ports[i]!;
    const args = ["nats-server", "-js", "-a", "127.0.0.1", "-p", String(client), "-sd", join(dir, `n${i}`), "-n", `nats${i}`, ...security];
    if (count > 1) args.push("--cluster_name", "parley-test", "--cluster", `nats://127.0.0.1:${route}`, "--routes", routes);
    const child = new Child(args, {}, `nats${i}`);
    children[i] = child;
    await child.line("stderr", "Server is ready", 10_000);
    // A cluster's JetStream answers only once it has a metadata leader: elected ~0.5 s after the servers are
    // ready, or a raft election timeout (4-9 s) later when the first vote splits.
    if (count > 1) await child.line("stderr", (line) => /new (JetStream cluster )?metadata leader/.test(line), 12_000);
  };

  const scheme = options.tls === undefined ? "nats" : "tls";
  const servers: NatsServer[] = ports.map(({ client }, i) => ({
    url: `${scheme}://127.0.0.1:${client}`,
    port: client,
    async kill() {
      const child = children[i];
      children[i] = undefined;
      child?.kill("SIGKILL");
      await child?.exit();
    },
    restart: () => launch(i),
  }));

  const stop = async () => {
    await Promise.all(children.map((child) => child?.[Symbol.asyncDispose]()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((_, i) => launch(i)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { servers, urls: servers.map((server) => server.url).join(","), stop, [Symbol.asyncDispose]: stop };
}
