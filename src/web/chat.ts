// The chat once signed in: the connection's status, the conversations (who
// is online, what is unread), the open conversation and the message box,
// which also takes the terminal's `@name text`. It turns the session's
// events into what the page shows.

import { parseLine } from "../client/input.ts";
import type { ConnectError } from "../client/registration.ts";
import { connectErrorText, formatDelay } from "../client/render.ts";
import { BROADCAST, nameKey } from "../protocol/names.ts";
import { Conversation, conversationTitle } from "./conversation.ts";
import { Roster } from "./roster.ts";
import type { WebSession, WebSessionEvent } from "./session.ts";

export type ChatElements = {
  readonly status: HTMLElement;
  readonly roster: HTMLUListElement;
  readonly online: HTMLElement;
  readonly title: HTMLElement;
  readonly logs: HTMLElement;
  readonly compose: HTMLFormElement;
  readonly message: HTMLInputElement;
  readonly composeError: HTMLElement;
};

const encoder = new TextEncoder();

export class Chat {
  readonly #elements: ChatElements;
  /** host:port, as the page was opened. */
  readonly #address: string;
  readonly #onEnded: (why: string) => void;
  readonly #roster: Roster;
  readonly #conversations = new Map<string, Conversation>();
  #selected!: Conversation;
  #session: WebSession | undefined;
  #user = "";
  /** Who is online by name key; undefined while not known. */
  #online: Map<string, string> | undefined;

  constructor(elements: ChatElements, address: string, onEnded: (why: string) => void) {
    this.#elements = elements;
    this.#address = address;
    this.#onEnded = onEnded;
    this.#roster = new Roster(elements.roster, (name) => {
      this.#select(this.#conversation(name));
      elements.message.focus();
    });
    elements.compose.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.#read(this.#selected);
    });
  }

  /** A fresh chat for `user`; the session's events come to onEvent() from now on. */
  start(session: WebSession, user: string): void {
    this.#session = session;
    this.#user = user;
    this.#online = undefined;
    this.#conversations.clear();
    this.#roster.clear();
    this.#elements.logs.replaceChildren();
    this.#elements.composeError.textContent = "";
    this.#select(this.#conversation(BROADCAST));
  }

  stop(): void {
    this.#session?.close();
    this.#session = undefined;
    document.title = "parley";
  }

  onEvent(event: WebSessionEvent): void {
    switch (event.type) {
      case "connected":
        return this.#status("connected", `${event.reconnected ? "reconnected" : "connected"} to ${this.#address} as ${this.#user}`);
      case "disconnected":
        this.#setOnline(undefined);
        if (event.reconnectInMs === undefined) return this.#status("offline", `connection lost: ${event.reason}`);
        return this.#status("reconnecting", `connection lost: ${event.reason}; reconnecting in ${formatDelay(event.reconnectInMs)}`);
      case "reconnect-failed":
        return this.#reconnectFailed(event.error, event.reconnectInMs);
      case "received":
        return this.#received(event.from, event.body);
      case "online":
        return this.#setOnline(event.names);
    }
  }

  #reconnectFailed(error: ConnectError, reconnectInMs: number | undefined): void {
    const why = error.kind === "not-authorized" ? `the server no longer accepts the password of "${this.#user}"` : connectErrorText(error, this.#address, this.#user);
    if (reconnectInMs === undefined) return this.#onEnded(why);
    this.#status("reconnecting", `${why}; next try in ${formatDelay(reconnectInMs)}`);
  }

  #status(state: "connected" | "reconnecting" | "offline", text: string): void {
    this.#elements.status.dataset.state = state;
    this.#elements.status.textContent = text;
  }

  #submit(): void {
    const { message, composeError } = this.#elements;
    const line = message.value;
    if (line.trim() === "") return;
    let to = this.#selected.name;
    let text = line;
    // The terminal's syntax: `@bob hello` goes to bob whichever conversation is open.
    if (line.trimStart().startsWith("@")) {
      const command = parseLine(line);
      if (command.kind === "invalid") {
        composeError.textContent = command.hint;
        return;
      }
      if (command.kind !== "message") return;
      to = command.to;
      text = command.text;
    }
    composeError.textContent = "";
    message.value = "";
    const conversation = this.#conversation(to);
    this.#select(conversation);
    const settle = conversation.addSent(conversation.name, text, new Date());
    const session = this.#session;
    if (session === undefined) return settle({ kind: "failed", to, reason: "not-connected" });
    void session.send(conversation.name, encoder.encode(text)).then(settle);
  }

  #received(from: string, body: Uint8Array): void {
    const conversation = this.#conversation(from);
    // docs/protocol.md D55: a FORWARD does not say whether it was a broadcast, so it goes under its sender.
    conversation.addReceived(from, body, new Date());
    if (conversation !== this.#selected || document.hidden) conversation.unread++;
    this.#refresh(conversation);
  }

  /** The conversation with `name` (any case), made when first needed. */
  #conversation(name: string): Conversation {
    const key = nameKey(name);
    let conversation = this.#conversations.get(key);
    if (conversation === undefined) {
      conversation = new Conversation(key === nameKey(BROADCAST) ? BROADCAST : (this.#online?.get(key) ?? name));
      this.#conversations.set(key, conversation);
      this.#elements.logs.append(conversation.log);
      this.#refresh(conversation);
    }
    return conversation;
  }

  #select(conversation: Conversation): void {
    const previous = this.#selected as Conversation | undefined;
    this.#selected = conversation;
    if (previous !== undefined && previous !== conversation) {
      previous.log.hidden = true;
      this.#refresh(previous);
    }
    conversation.log.hidden = false;
    conversation.log.scrollTop = conversation.log.scrollHeight;
    this.#elements.title.textContent = conversationTitle(conversation.name);
    this.#elements.message.placeholder = conversation.name === BROADCAST ? "Message everyone, or @name message" : `Message ${conversation.name}, or @name message`;
    this.#read(conversation);
  }

  #read(conversation: Conversation): void {
    if (document.hidden || conversation !== this.#selected) return;
    conversation.unread = 0;
    this.#refresh(conversation);
  }

  /** Who is online now (a whole new list), or undefined when that is not known. */
  #setOnline(names: readonly string[] | undefined): void {
    this.#online = names === undefined ? undefined : new Map(names.map((name) => [nameKey(name), name]));
    for (const name of names ?? []) if (nameKey(name) !== nameKey(this.#user)) this.#conversation(name);
    for (const conversation of this.#conversations.values()) this.#refresh(conversation);
    this.#elements.online.textContent = this.#online === undefined ? "" : `${[...this.#online.keys()].filter((key) => key !== nameKey(this.#user)).length} online`;
  }

  #refresh(conversation: Conversation): void {
    const key = nameKey(conversation.name);
    const online = this.#online === undefined || key === nameKey(BROADCAST) ? undefined : this.#online.has(key);
    this.#roster.update({ name: conversation.name, online, unread: conversation.unread, selected: conversation === this.#selected });
    const unread = [...this.#conversations.values()].reduce((sum, each) => sum + each.unread, 0);
    document.title = `${unread > 0 ? `(${unread}) ` : ""}${this.#user} · parley`;
  }
}
