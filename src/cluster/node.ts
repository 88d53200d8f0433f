// Joining a cluster (docs/protocol.md D57-D60): connect to the bus, take this
// node's name, learn the names already claimed, and take FORWARDs for this
// node's users; then the server is built around the directory this returns.

import { hostname } from "node:os";
import type { Directory } from "../core/directory.ts";
import type { EventSink } from "../core/events.ts";
import type { LocalDirectory } from "../core/local-directory.ts";
import type { ClusterStatus } from "../core/metrics.ts";
import { FailReason } from "../core/reasons.ts";
import { openBus, type BusOptions } from "./bus.ts";
import { Barrier } from "./barrier.ts";
import { Courier } from "./courier.ts";
import { ClusterDirectory } from "./directory.ts";
import { Nodes, defaultLeaseTimes, nodeNamePattern, type LeaseTimes } from "./nodes.ts";

export type ClusterOptions = Omit<BusOptions, "node"> & {
  /** Default: host name, port and a random suffix. */
  readonly node?: string;
  readonly lease?: LeaseTimes;
};


export type ClusterNode = {
  readonly node: string;
  /** For ServerOptions.directory: the cluster's directory around the server's own. */
  directory(local: LocalDirectory, graceMs: number): Directory;
  state(): ClusterStatus;
  /** Since this node's last heartbeat that the bucket confirmed (ms): it fences past the fence time (docs/protocol.md D59). */
  leaseAgeMs(): number;
  /** Gives the names back and leaves; the server closed its connections first. */
  leave(): Promise<void>;
};

/** `host-5050-x7k2q`: unique enough, and a valid NATS token and key. */
export function defaultNodeName(port: number): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40) || "node";
  return `${host}-${port}-${Math.random().toString(36).slice(2, 7)}`;
}

export async function joinCluster(options: ClusterOptions & { readonly port: number; readonly deliveryDeadlineMs: number; readonly events: EventSink }): Promise<ClusterNode> {
  const node = options.node ?? defaultNodeName(options.port);
  if (!nodeNamePattern.test(node)) throw new Error(`--node-name must be 1 to 64 letters, digits, - or _, got ${JSON.stringify(node)}`);
  const { events } = options;
  const bus = await openBus({ ...options, node });
  let connected = true;
  const up = () => connected;
  const nodes = new Nodes(bus.connection, bus.nodes, node, events, options.lease ?? defaultLeaseTimes, up);
  let directory: ClusterDirectory | undefined;
  const courier = new Courier(bus, { node, deliveryDeadlineMs: options.deliveryDeadlineMs, up, local: () => directory?.localUsers });
  directory = new ClusterDirectory(bus.names, nodes, courier, events);
  const joining = directory;
  const barrier = new Barrier(bus.connection, nodes, (key) => joining.applied(key));
  try {
    await directory.start(barrier, (options.lease ?? defaultLeaseTimes).heartbeatMs);
    barrier.serve();
    await nodes.join(directory);
  } catch (error) {
    nodes.stop();
    await bus.connection.close();
    throw error;
  }
  courier.serve();
  void (async () => {
    for await (const status of bus.connection.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") {
        connected = status.type === "reconnect";
        events.emit({ type: "cluster.bus", node, state: connected ? "reconnected" : "disconnected" });
        // Replies on the way may be lost with the connection: what waits is not delivered, as far as anyone can say.
        if (!connected) courier.failAll(FailReason.ClusterDown);
        else {
          // The others learn of the new connection, the lease is proven at once, and names given back meanwhile are deleted now.
          nodes.reconnected();
          directory.reconcile();
        }
      }
    }
  })();
  events.emit({ type: "cluster.joined", node, servers: bus.servers });
  const joined = directory;
  return {
    node,
    directory: (local, graceMs) => joined.attach(local, graceMs),
    state: () => ({ node, connected, fenced: nodes.fenced, nodes: 1 + nodes.aliveCount }),
    leaseAgeMs: () => nodes.leaseAgeMs,
    async leave() {
      courier.stop();
      barrier.stop();
      // Without the bus there is nobody to tell: the others see this node dead after their deadMs.
      if (!connected) {
        await joined.close(false);
        nodes.stop();
        return await bus.connection.close();
      }
      await joined.close();
      await nodes.leave();
      await bus.connection.drain().catch(() => bus.connection.close());
    },
  };
}
