// Counters for /metrics (Prometheus text exposition 0.0.4). What the log
// reports is counted from the same typed events, before the log's own rate
// limit, so a counter never disagrees with the log; what happens on every
// message (SENDs, FORWARDs, bytes, receipt latency) is counted directly.

import type { EventSink, EventType, ServerEvent } from "./events.ts";
import type { Transaction } from "./transaction.ts";

// Receipt latency buckets, ms: a SEND read -> its SENT written.
const bucketsMs = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

/** The events counted, and the label each is counted under. */
const counted: { readonly [T in EventType]?: (event: Extract<ServerEvent, { type: T }>) => [string, string] } = {
  "connection.refused": (e) => ["parley_protocol_errors_total", `reason="${e.reason}"`],
  "connection.close": (e) => ["parley_connections_closed_total", `reason="${e.reason}"`],
  "connection.slow-consumer": () => ["parley_slow_consumers_total", ""],
  "recipient.timeout": (e) => ["parley_recipients_timed_out_total", `deadline="${e.deadline}"`],
  "connection.throttled": () => ["parley_fairness_actions_total", `action="throttled"`],
  "connection.busy": (e) => ["parley_fairness_actions_total", `action="refused-${e.cap}"`],
  "broadcast.refused": (e) => ["parley_fairness_actions_total", `action="broadcast-refused-${e.reason}"`],
  "auth.refused": (e) => ["parley_auth_refused_total", `reason="${e.reason}"`],
};

/** A cluster node's state, for /healthz and /metrics (docs/protocol.md D59). */
export type ClusterStatus = { readonly node: string; readonly connected: boolean; readonly fenced: boolean; readonly nodes: number };

export type Gauges = { readonly users: number; readonly rssBytes: number; readonly cpuSeconds: number; readonly cluster?: ClusterStatus };

export class Metrics {
  readonly #counters = new Map<string, number>();
  readonly #connections = new Map<string, number>();
  readonly #latency = new Array<number>(bucketsMs.length).fill(0);
  #latencySum = 0;
  #latencyCount = 0;
  sentTotal = 0;
  failedTotal = 0;
  forwards = 0;
  bytesIn = 0;
  bytesOut = 0;

  /** An event sink that counts what it sees, then passes everything on to `next`. */
  tee(next: EventSink): EventSink {
    return {
      wants: (type) => counted[type] !== undefined || next.wants(type),
      emit: (event) => {
        const count = counted[event.type] as ((event: ServerEvent) => [string, string]) | undefined;
        if (count !== undefined) {
          const [name, labels] = count(event);
          const key = labels === "" ? name : `${name}{${labels}}`;
          this.#counters.set(key, (this.#counters.get(key) ?? 0) + 1);
        }
        if (next.wants(event.type)) next.emit(event);
      },
    };
  }

  connectionOpened(transport: string): void {
    this.#connections.set(transport, (this.#connections.get(transport) ?? 0) + 1);
  }

  connectionClosed(transport: string): void {
    this.#connections.set(transport, (this.#connections.get(transport) ?? 1) - 1);
  }

  /** A SEND answered: SENT, or ERROR 102; with its latency when it was SENT. */
  answered(tx: Transaction, now: number): void {
    if (tx.outcome?.kind !== "sent") {
      this.failedTotal++;
      return;
    }
    this.sentTotal++;
    const ms = now - tx.startedAt;
    this.#latencySum += ms;
    this.#latencyCount++;
    // One bucket a SEND (most land in the first few); render() makes them cumulative.
    let i = 0;
    while (i < bucketsMs.length && ms > bucketsMs[i]!) i++;
    if (i < bucketsMs.length) this.#latency[i]!++;
  }

  render(gauges: Gauges): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    family("parley_connections", "gauge", "Open connections, by transport.", [...this.#connections].map(([transport, n]) => [`{transport="${transport}"}`, n]));
    family("parley_names_held", "gauge", "Names with at least one role held.", [["", gauges.users]]);
    family("parley_sends_total", "counter", "SENDs answered, by outcome.", [
      ['{outcome="sent"}', this.sentTotal],
      ['{outcome="failed"}', this.failedTotal],
    ]);
    family("parley_forwards_total", "counter", "FORWARDs queued to recipients.", [["", this.forwards]]);
    family("parley_bytes_total", "counter", "Protocol bytes read and written.", [
      ['{direction="in"}', this.bytesIn],
      ['{direction="out"}', this.bytesOut],
    ]);
    lines.push("# HELP parley_receipt_seconds From a SEND read to its SENT written.", "# TYPE parley_receipt_seconds histogram");
    let cumulative = 0;
    bucketsMs.forEach((ms, i) => lines.push(`parley_receipt_seconds_bucket{le="${ms / 1000}"} ${(cumulative += this.#latency[i]!)}`));
    lines.push(`parley_receipt_seconds_bucket{le="+Inf"} ${this.#latencyCount}`, `parley_receipt_seconds_sum ${this.#latencySum / 1000}`, `parley_receipt_seconds_count ${this.#latencyCount}`);
    const byName = new Map<string, [string, number][]>();
    for (const [key, value] of this.#counters) {
      const brace = key.indexOf("{");
      const name = brace < 0 ? key : key.slice(0, brace);
      byName.set(name, [...(byName.get(name) ?? []), [brace < 0 ? "" : key.slice(brace), value]]);
    }
    for (const [name, samples] of byName) family(name, "counter", "Counted from the server's events.", samples);
    const cluster = gauges.cluster;
    if (cluster !== undefined) {
      const node = `{node="${cluster.node}"}`;
      family("parley_cluster_connected", "gauge", "1 while this node is connected to NATS.", [[node, cluster.connected ? 1 : 0]]);
      family("parley_cluster_fenced", "gauge", "1 while this node cannot prove its lease and serves no names (docs/protocol.md D59).", [[node, cluster.fenced ? 1 : 0]]);
      family("parley_cluster_nodes", "gauge", "Live nodes this node knows of, itself included.", [[node, cluster.nodes]]);
    }
    family("process_resident_memory_bytes", "gauge", "Resident memory.", [["", gauges.rssBytes]]);
    family("process_cpu_seconds_total", "counter", "User and system CPU time.", [["", gauges.cpuSeconds]]);
    return lines.join("\n") + "\n";
  }
}
