// Events as one line each on a sink the caller chooses (the CLI passes
// stderr), in text or JSON. Levels below the chosen one are dropped before
// formatting, and each connection may cause only so many lines (docs/protocol.md
// §6): the rest are counted and reported, so a client cannot flood the log.

import { eventLevel, LogLevels, type EventSink, type EventType, type LogLevel, type ServerEvent } from "./events.ts";
import { TokenBucket } from "./policy.ts";

export const LogFormats = ["text", "json"] as const;
export type LogFormat = (typeof LogFormats)[number];

export type LoggerOptions = {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly write: (line: string) => void;
  /** Lines one connection may cause per second, with ten seconds' worth as a burst. Default: no limit. */
  readonly linesPerSecond?: number;
  /** How soon after the first line held back their count is written. */
  readonly reportAfterMs?: number;
};
const maxBuckets = 10_000;

export function createLogger(options: LoggerOptions): EventSink {
  const { format, write, linesPerSecond } = options;
  const threshold = LogLevels.indexOf(options.level);
  const wants = (type: EventType): boolean => LogLevels.indexOf(eventLevel[type]) <= threshold;
  const line = (event: ServerEvent) => write(format === "json" ? jsonLine(event) : textLine(event));
  const buckets = new Map<number, TokenBucket>();
  let suppressed = 0;
  let report: ReturnType<typeof setTimeout> | undefined;
  const reportSuppressed = () => {
    report = undefined;
    line({ type: "log.suppressed", lines: suppressed });
    suppressed = 0;
  };
  return {
    wants,
    emit(event) {
      const id = "id" in event ? event.id : undefined;
      if (event.type === "connection.close" && id !== undefined) buckets.delete(id);
      if (!wants(event.type)) return;
      if (linesPerSecond !== undefined && id !== undefined) {
        let bucket = buckets.get(id);
        if (bucket === undefined && event.type !== "connection.close") {
          // connection.close is not emitted when nobody logs it: the map is bounded by size instead.
          if (buckets.size >= maxBuckets) buckets.clear();
          buckets.set(id, (bucket = new TokenBucket(linesPerSecond, linesPerSecond * 10)));
        }
        if (bucket !== undefined && bucket.spend(1) > 0) {
          // Counted, and the count written a while later (at most one line per while), so it is never lost.
          if (suppressed++ === 0) {
            report = setTimeout(reportSuppressed, options.reportAfterMs ?? 10_000);
            report.unref?.();
          }
          return;
        }
      }
      line(event);
    },
  };
}

function jsonLine(event: ServerEvent): string {
  const { type, ...fields } = event;
  return JSON.stringify({ time: new Date().toISOString(), level: eventLevel[type], event: type, ...fields }) + "\n";
}

function textLine(event: ServerEvent): string {
  const { type, ...fields } = event;
  let line = `${new Date().toISOString()} ${eventLevel[type].padEnd(5)} ${type}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    line += ` ${key}=${/^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text)}`;
  }
  return line + "\n";
}
