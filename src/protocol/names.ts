// The username rule (docs/protocol.md §3, §6): 1 to 32 ASCII letters and
// digits, unique regardless of case, and never the broadcast name in any case.

export const BROADCAST = "ALL";
export const maxNameLength = 32;

const NAME = new RegExp(`^[A-Za-z0-9]{1,${maxNameLength}}$`);

/** docs/protocol.md §6: `all`, `All` and `ALL` all mean everyone, so none is a name. */
export function isBroadcast(name: string): boolean {
  // Char codes, not toUpperCase(): it runs on every SEND. Only A/a | 0x20 is 0x61, only L/l | 0x20 is 0x6c.
  return name.length === 3 && (name.charCodeAt(0) | 0x20) === 0x61 && (name.charCodeAt(1) | 0x20) === 0x6c && (name.charCodeAt(2) | 0x20) === 0x6c;
}

export function isValidUsername(name: string): boolean {
  return NAME.test(name) && !isBroadcast(name);
}

/** What makes two names the same name: `Alice` and `alice` cannot both be registered. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

export function sameName(a: string, b: string): boolean {
  return a === b || (a.length === b.length && a.toLowerCase() === b.toLowerCase());
}
