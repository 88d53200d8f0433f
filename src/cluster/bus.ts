// The cluster's bus: one NATS connection per node, and the two key-value
// buckets on it (docs/protocol.md D57): who holds which name, and which nodes
// are alive. Loaded only in cluster mode, so a single node needs no NATS code.

import type { KV } from "@nats-io/kv";
import type { NatsConnection, headers } from "@nats-io/transport-node";

export type BusOptions = {
  /** `nats://host:port` URLs, without credentials in them. */
  readonly servers: readonly string[];
  /** This node's name, for the server's connection list. */
  readonly node: string;
  /** A NATS credentials file's text (JWT + NKey seed). */
  readonly creds?: string;
  /** A user and password, from the environment, never from a URL on the command line. */
  readonly user?: { readonly name: string; readonly password: string };
  /** TLS to NATS: trust this CA (PEM text) besides the system's. */
  readonly tls?: { readonly ca?: string };
  /** How long a key-value operation may take before it is reported as failed (registration: ERROR 106). */
  readonly timeoutMs?: number;
};

export type Bus = {
  readonly connection: NatsConnection;
  /** name key -> the claim (docs/protocol.md D58). */
  readonly names: KV;
  /** node name -> its heartbeat (D59). */
  readonly nodes: KV;
  readonly servers: string;
  /** nats.js's header factory, from the module loaded with the bus. */
  readonly headers: typeof headers;
};

export const namesBucket = "parley-names";
export const nodesBucket = "parley-nodes";
// The nodes bucket keeps an entry this long after its last heartbeat: a
// node's own heartbeats refresh it, so only nodes long dead are removed.
const nodesMaxAgeMs = 10 * 60_000;

/** `nats://u:p@host` on a command line would show in ps: refuse it (docs/protocol.md D57). */
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.includes("://") ? url : `nats://${url}`);
  } catch {
    return `not a URL: ${JSON.stringify(url)}`;
  }
  if (parsed.username !== "" || parsed.password !== "") return "credentials do not belong in a URL (ps shows them): use --cluster-creds or PARLEY_CLUSTER_USER and PARLEY_CLUSTER_PASSWORD";
  if (!["nats:", "tls:"].includes(parsed.protocol)) return `expected nats://HOST:PORT or tls://HOST:PORT, got ${JSON.stringify(url)}`;
  return undefined;
}

export async function openBus(options: BusOptions): Promise<Bus> {
  const { connect, credsAuthenticator, headers } = await import("@nats-io/transport-node");
  const { jetstream } = await import("@nats-io/jetstream");
  const { Kvm } = await import("@nats-io/kv");
  const connection = await connect({
    servers: [...options.servers],
    name: `parley ${options.node}`,
    // The default gives up about 21 s after losing the server; a relay keeps trying.
    maxReconnectAttempts: -1,
    // A request's failure is read by its kind, never its stack: capturing one per request cost ~12% of a sending node (bench).
    noAsyncTraces: true,
    reconnectTimeWait: 500,
    authenticator: options.creds === undefined ? undefined : credsAuthenticator(new TextEncoder().encode(options.creds)),
    user: options.user?.name,
    pass: options.user?.password,
    tls: options.tls === undefined ? undefined : { ca: options.tls.ca },
  });
  try {
    const kvm = new Kvm(jetstream(connection, { timeout: options.timeoutMs ?? 3000 }));
    // Three copies when NATS is itself a cluster, so losing one NATS server loses no claim.
    const replicas = connection.info?.cluster === undefined ? 1 : 3;
    const names = await kvm.create(namesBucket, { history: 1, replicas });
    const nodes = await kvm.create(nodesBucket, { history: 1, replicas, ttl: nodesMaxAgeMs });
    return { connection, names, nodes, servers: options.servers.join(","), headers };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
