// One line per event on a sink the caller chooses (cli.ts passes stderr).
// Disabled levels are undefined, so `log.debug?.(...)` does not even build
// its fields on the hot path.

export const LogLevels = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LogLevels)[number];
export const LogFormats = ["text", "json"] as const;
export type LogFormat = (typeof LogFormats)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;
export type LogFn = (event: string, fields?: LogFields) => void;
export type Logger = { readonly [L in LogLevel]?: LogFn };

export const silentLogger: Logger = {};

export function createLogger(options: { level: LogLevel; format: LogFormat; write: (line: string) => void }): Logger {
  const { level, format, write } = options;
  const logger: { [L in LogLevel]?: LogFn } = {};
  for (const each of LogLevels.slice(0, LogLevels.indexOf(level) + 1)) {
    logger[each] = (event, fields = {}) => write(format === "json" ? jsonLine(each, event, fields) : textLine(each, event, fields));
  }
  return logger;
}

function jsonLine(level: LogLevel, event: string, fields: LogFields): string {
  return JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + "\n";
}

function textLine(level: LogLevel, event: string, fields: LogFields): string {
  let line = `${new Date().toISOString()} ${level.padEnd(5)} ${event}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    line += ` ${key}=${/^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text)}`;
  }
  return line + "\n";
}
