// One conversation: with one person, or with everyone (ALL). Its log holds
// the messages both ways; every message sent carries its receipt, which is
// the point of parley: sending, delivered, or not delivered and why.

import { bodyText, failureText } from "../client/render.ts";
import type { Outcome } from "../client/outcome.ts";
import { BROADCAST } from "../protocol/names.ts";
import { element, timeElement } from "./dom.ts";

export type ReceiptState = "sending" | "delivered" | "failed";

/** How a conversation is named on the page: everyone's is "Everyone". */
export function conversationTitle(name: string): string {
  return name === BROADCAST ? "Everyone" : name;
}

export class Conversation {
  /** The spelling to show and to send to (the server's, once it has said it). */
  name: string;
  readonly log: HTMLOListElement;
  unread = 0;

  constructor(name: string) {
    this.name = name;
    this.log = element("ol", { className: "log", attributes: { role: "log", "aria-label": `Messages with ${conversationTitle(name)}` } });
    this.log.hidden = true;
  }

  /** A message this user sent; returns what settles its receipt. */
  addSent(to: string, text: string, at: Date): (outcome: Outcome) => void {
    const receipt = element("p", { className: "receipt", attributes: { role: "status" } });
    const item = element(
      "li",
      { className: "message sent" },
      element("p", { className: "meta" }, element("span", { className: "from", text: "you" }), document.createTextNode(" "), timeElement(at)),
      element("p", { className: "body", text }),
      receipt,
    );
    const whom = to === BROADCAST ? "everyone" : to;
    const show = (state: ReceiptState, mark: string, words: string, label: string) => {
      item.dataset.state = state;
      receipt.replaceChildren(element("span", { className: "mark", text: mark, attributes: { "aria-hidden": "true" } }), document.createTextNode(words));
      receipt.setAttribute("aria-label", label);
    };
    show("sending", "…", "sending", `sending to ${whom}`);
    this.#append(item);
    return (outcome) => {
      if (outcome.kind === "delivered") return show("delivered", "✓", "delivered", `delivered to ${whom}`);
      const why = failureText(outcome);
      show("failed", "✕", `not delivered: ${why}`, `not delivered to ${whom}: ${why}`);
    };
  }

  /** A message from `from`, shown as text only. */
  addReceived(from: string, body: Uint8Array, at: Date): void {
    this.#append(
      element(
        "li",
        { className: "message received" },
        element("p", { className: "meta" }, element("span", { className: "from", text: from }), document.createTextNode(" "), timeElement(at)),
        element("p", { className: "body", text: bodyText(body) }),
      ),
    );
  }

  #append(item: HTMLLIElement): void {
    const log = this.log;
    // Follow the conversation only when its reader is already at the end of it.
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(item);
    if (atEnd) log.scrollTop = log.scrollHeight;
  }
}
