// The list of conversations: everyone first, then each person, with who is
// online and how many messages are unread. Entries are updated in place and
// never moved, so the button that has the keyboard's focus keeps it.

import { BROADCAST, nameKey } from "../protocol/names.ts";
import { conversationTitle } from "./conversation.ts";
import { element } from "./dom.ts";

export type RosterEntry = {
  readonly name: string;
  /** undefined: not known (the server grants no presence, or the page is offline). */
  readonly online: boolean | undefined;
  readonly unread: number;
  readonly selected: boolean;
};

type Row = { readonly item: HTMLLIElement; readonly button: HTMLButtonElement; readonly label: HTMLSpanElement; readonly presence: HTMLSpanElement; readonly unread: HTMLSpanElement };

/** Everyone first, then people in case-insensitive order (`all` is no one's name, docs/protocol.md D24). */
function order(key: string): string {
  return key === nameKey(BROADCAST) ? "" : `~${key}`;
}

export class Roster {
  readonly #list: HTMLUListElement;
  readonly #onSelect: (name: string) => void;
  readonly #rows = new Map<string, Row>();

  constructor(list: HTMLUListElement, onSelect: (name: string) => void) {
    this.#list = list;
    this.#onSelect = onSelect;
  }

  clear(): void {
    this.#rows.clear();
    this.#list.replaceChildren();
  }

  update(entry: RosterEntry): void {
    const row = this.#rows.get(nameKey(entry.name)) ?? this.#add(entry.name);
    row.label.textContent = conversationTitle(entry.name);
    row.item.dataset.presence = entry.online === undefined ? "unknown" : entry.online ? "online" : "offline";
    row.presence.textContent = entry.online === undefined ? "" : entry.online ? "online" : "offline";
    row.unread.textContent = entry.unread > 0 ? String(entry.unread) : "";
    row.unread.hidden = entry.unread === 0;
    row.unread.setAttribute("aria-label", `${entry.unread} unread`);
    if (entry.selected && !row.button.hasAttribute("aria-current")) {
      row.button.setAttribute("aria-current", "true");
      // On a phone the list is one row that scrolls sideways: keep the open conversation in it.
      row.button.scrollIntoView({ block: "nearest", inline: "nearest" });
    } else if (!entry.selected) row.button.removeAttribute("aria-current");
  }

  #add(name: string): Row {
    const label = element("span", { className: "name" });
    const presence = element("span", { className: "presence" });
    const unread = element("span", { className: "unread" });
    const button = element("button", { attributes: { type: "button" } }, element("span", { className: "dot", attributes: { "aria-hidden": "true" } }), label, presence, unread);
    button.addEventListener("click", () => this.#onSelect(name));
    const item = element("li", {}, button);
    const row: Row = { item, button, label, presence, unread };
    const key = nameKey(name);
    const later = [...this.#rows.keys()].filter((other) => order(other) > order(key)).sort((a, b) => (order(a) < order(b) ? -1 : 1));
    this.#list.insertBefore(item, later[0] === undefined ? null : this.#rows.get(later[0])!.item);
    this.#rows.set(key, row);
    return row;
  }
}
