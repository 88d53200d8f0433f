// A real server on 127.0.0.1, port 0, for one test: `await using server = await testServer()`.

import type { EventSink } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import type { LimitValues } from "../../src/protocol/limits.ts";
import { startServer, type RunningServer } from "../../src/server.ts";

/** PARLEY_TEST_LOG=debug prints the server's log while a test runs. */
function testLogger(): EventSink | undefined {
  const level = process.env.PARLEY_TEST_LOG;
  if (level !== "error" && level !== "warn" && level !== "info" && level !== "debug") return undefined;
  return createLogger({ level, format: "text", write: (line) => process.stderr.write(line) });
}

export function testServer(limits: Partial<LimitValues> = {}): RunningServer {
  return startServer({ hostname: "127.0.0.1", port: 0, limits, events: testLogger() });
}
