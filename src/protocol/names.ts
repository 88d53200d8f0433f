// The username rule (docs/protocol.md §3): 1 to 32 ASCII letters and digits,
// case-sensitive, and never the broadcast name.

export const BROADCAST = "ALL";
export const maxNameLength = 32;

const NAME = new RegExp(`^[A-Za-z0-9]{1,${maxNameLength}}$`);

export function isValidUsername(name: string): boolean {
  return name !== BROADCAST && NAME.test(name);
}
