// What an in-process server reported, kept as typed events (info and above),
// so a fault test waits for "node1 fenced" with a deadline instead of
// guessing how long it takes. Also passed on to another sink (PARLEY_TEST_LOG).

import { eventLevel, LogLevels, type EventSink, type EventType, type ServerEvent } from "../../src/core/events.ts";
import { Changes } from "./changes.ts";

const info = LogLevels.indexOf("info");

export class EventLog implements EventSink {
  readonly events: ServerEvent[] = [];
  readonly #also: EventSink | undefined;
  readonly #changes = new Changes();

  constructor(also?: EventSink) {
    this.#also = also;
  }

  wants(type: EventType): boolean {
    return LogLevels.indexOf(eventLevel[type]) <= info || this.#also?.wants(type) === true;
  }

  emit(event: ServerEvent): void {
    this.#also?.emit(event);
    if (LogLevels.indexOf(eventLevel[event.type]) > info) return;
    this.events.push(event);
    this.#changes.changed();
  }

  /** The events of one type seen so far (after `since`, an index into events). */
  of<T extends EventType>(type: T, since = 0): Extract<ServerEvent, { type: T }>[] {
    return this.events.slice(since).filter((event): event is Extract<ServerEvent, { type: T }> => event.type === type);
  }

  /** Waits (at most `deadlineMs`) for an event of `type` that `accepts` takes, counting those already seen after `since`. */
  async next<T extends EventType>(type: T, accepts: (event: Extract<ServerEvent, { type: T }>) => boolean = () => true, deadlineMs = 5000, since = 0): Promise<Extract<ServerEvent, { type: T }>> {
    const find = () => this.of(type, since).find(accepts);
    await this.#changes.until(() => find() !== undefined, deadlineMs, () => `waiting for ${type}; seen: ${this.events.slice(-10).map((event) => JSON.stringify(event)).join(" ")}`);
    return find()!;
  }
}
