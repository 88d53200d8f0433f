// The trust rules over WebSocket (docs/protocol.md §6, D44-D48), beside the
// honest group on TCP: a flood of WebSocket connections from one address meets
// the per-address cap (ERROR 106, close 1013) and the honest users go on.

import { describe, expect, test } from "bun:test";
import { openArena } from "../support/arena.ts";
import { Peer } from "../support/peer.ts";

describe("hostile WebSocket clients", () => {
  test("a flood of WebSocket connections from one address meets the per-address cap with 1013, and the honest group goes on", async () => {
    // The honest group holds 7 connections from 127.0.0.1 (browsers cannot choose their source address); the cap there is 16.
    await using arena = await openArena({ http: true, limits: { maxConnectionsPerAddress: 16 }, honest: { broadcast: 0 } });
    await arena.group.progress(20);
    const url = `ws://127.0.0.1:${arena.server.httpPort}/ws`;
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => Peer.connectWebSocket(url, `flood${i}`)));
    // Refused at once, or, admitted, closed at the arena's register deadline: every one ends.
    await Promise.all(flood.map((peer) => peer.closed));
    const refused = flood.filter((peer) => peer.closeCode === 1013);
    expect(refused).toHaveLength(40 - (16 - arena.honestConnections()));
    for (const peer of refused) expect(new TextDecoder().decode(peer.unread)).toBe("ERROR 106 Server busy\n\n");
    await arena.group.progress(100);
    await arena.finish();
  }, 20_000);
});
