// Building elements for the page. Text goes in as textContent only: names and
// bodies come from other people, so nothing they send is ever parsed as HTML.

export type Props = {
  readonly className?: string;
  readonly text?: string;
  readonly attributes?: Readonly<Record<string, string>>;
};

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  if (props.className !== undefined) made.className = props.className;
  for (const [name, value] of Object.entries(props.attributes ?? {})) made.setAttribute(name, value);
  if (props.text !== undefined) made.textContent = props.text;
  made.append(...children);
  return made;
}

/** The element with this id, of the kind the page's markup promises. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return found;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** `<time datetime="2026-11-30T17:20:00.000Z">18:20</time>` */
export function timeElement(at: Date): HTMLTimeElement {
  return element("time", { text: timeFormat.format(at), attributes: { datetime: at.toISOString() } });
}
