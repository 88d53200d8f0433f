// Following a key-value bucket for as long as the node lives (docs/protocol.md
// D63). nats.js's watch is an ordered consumer with one replica: when the NATS
// server holding it dies, the watch goes silent, and nats.js notices only after
// two missed idle heartbeats of 30 s each; meanwhile this node would judge
// every other node dead and miss every claim. So the bucket's last revision is
// read every check: a watch behind it that made no progress since the last
// check is started again, and its first values (the bucket as it is, deletions
// included) bring what it missed.

import type { KV, KvWatchEntry } from "@nats-io/kv";

export type Follower = { stop(): void };

export async function follow(kv: KV, apply: (entry: KvWatchEntry) => void, checkMs: number): Promise<Follower> {
  let stopped = false;
  /** The last revision the current watch delivered, and where it was when last found behind. */
  let seen = 0;
  let stuckAt: number | undefined;
  let checking = false;
  const pump = async (updates: Awaited<ReturnType<KV["watch"]>>) => {
    for await (const entry of updates) {
      if (stopped || updates !== current) break;
      seen = Math.max(seen, entry.revision);
      apply(entry);
    }
  };
  let current = await kv.watch();
  void pump(current);

  const check = async () => {
    const last = await kv.status().then(
      (status) => status.streamInfo.state.last_seq,
      // No answer (the bus or JetStream is away): nothing to compare with.
      () => 0,
    );
    if (last <= seen) return void (stuckAt = undefined);
    if (stuckAt !== seen) return void (stuckAt = seen);
    const fresh = await kv.watch().catch(() => undefined);
    if (fresh === undefined || stopped) return fresh?.stop();
    const old = current;
    [current, stuckAt] = [fresh, undefined];
    old.stop();
    void pump(fresh);
  };
  const timer = setInterval(() => {
    if (checking || stopped) return;
    checking = true;
    void check().finally(() => (checking = false));
  }, checkMs);

  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      current.stop();
    },
  };
}
