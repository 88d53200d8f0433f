// Events as one line each on a sink the caller chooses (cli.ts passes stderr),
// in text or JSON. Levels below the chosen one are dropped before formatting.

import { eventLevel, LogLevels, type EventSink, type EventType, type LogLevel, type ServerEvent } from "./events.ts";

export const LogFormats = ["text", "json"] as const;
export type LogFormat = (typeof LogFormats)[number];

export function createLogger(options: { level: LogLevel; format: LogFormat; write: (line: string) => void }): EventSink {
  const { format, write } = options;
  const threshold = LogLevels.indexOf(options.level);
  const wants = (type: EventType): boolean => LogLevels.indexOf(eventLevel[type]) <= threshold;
  return {
    wants,
    emit(event) {
      if (wants(event.type)) write(format === "json" ? jsonLine(event) : textLine(event));
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
