// `parley accounts add|remove|list|passwd`: the operator's side of the
// accounts file (docs/protocol.md §7 "Accounts"). A password is asked for
// without echo on a terminal, or read as the first line of stdin otherwise;
// never from the command line, where `ps` would show it.

import { defaultHashCost, hashPassword } from "../accounts/hash.ts";
import { readAccounts, updateAccounts } from "../accounts/file.ts";
import { isValidUsername, nameKey } from "../protocol/names.ts";
import { passwordProblem, passwordProblemText } from "../protocol/password.ts";
import { helpFlag, helpText, nonEmpty, optional, readFlags, UsageError, type Env } from "./flags.ts";

export const accountsFlags = {
  accounts: optional("the accounts file (created when missing)", nonEmpty),
  help: helpFlag,
} as const;

const usage = `Usage: parley accounts <command> [name] [flags]

  add NAME      create an account; asks for its password (stdin's first line when not a terminal)
  passwd NAME   change an account's password
  remove NAME   delete an account
  list          the names that have accounts`;

const helpPointer = "parley accounts --help";

export async function runAccounts(args: readonly string[], env: Env): Promise<number> {
  // The command and its name come first, the flags after them.
  const firstFlag = args.findIndex((arg) => arg.startsWith("-"));
  const positional = firstFlag < 0 ? args : args.slice(0, firstFlag);
  const options = readFlags(accountsFlags, firstFlag < 0 ? [] : args.slice(firstFlag), env, helpPointer);
  if (options.help) {
    process.stdout.write(helpText(usage, accountsFlags));
    return 0;
  }
  const [command, name, extra] = positional;
  const path = options.accounts;
  if (path === undefined) throw new UsageError("--accounts FILE (or PARLEY_ACCOUNTS) is needed", helpPointer);
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`, helpPointer);
  if (command === "list") {
    if (name !== undefined) throw new UsageError("list takes no name", helpPointer);
    for (const account of readAccounts(path).accounts.values()) process.stdout.write(`${account.name}\n`);
    return 0;
  }
  if (command !== "add" && command !== "passwd" && command !== "remove") throw new UsageError(`unknown accounts command ${JSON.stringify(command ?? "")}`, helpPointer);
  if (name === undefined || !isValidUsername(name)) throw new UsageError(`${JSON.stringify(name ?? "")} is not a username (1 to 32 letters and digits)`, helpPointer);
  const key = nameKey(name);
  const exists = readAccounts(path).accounts.has(key);
  if (command === "add" && exists) throw new Error(`${name} already has an account (parley accounts passwd ${name} changes its password)`);
  if (command !== "add" && !exists) throw new Error(`${name} has no account`);
  if (command === "remove") {
    await updateAccounts(path, (accounts) => void accounts.delete(key));
    process.stderr.write(`removed ${name}\n`);
    return 0;
  }
  const password = await readPassword(`password for ${name}: `);
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new Error(passwordProblemText[problem]);
  const hash = await hashPassword(password, defaultHashCost);
  await updateAccounts(path, (accounts) => {
    const spelled = command === "passwd" ? (accounts.get(key)?.name ?? name) : name;
    accounts.set(key, { name: spelled, hash });
  });
  process.stderr.write(`${command === "add" ? "added" : "changed the password of"} ${name}\n`);
  return 0;
}

/** A password: typed without echo on a terminal (twice), else stdin's first line; as the UTF-8 bytes typed. */
export async function readPassword(prompt: string): Promise<Uint8Array> {
  if (!process.stdin.isTTY) {
    const text = await new Response(Bun.stdin.stream()).text();
    return new TextEncoder().encode(text.split(/\r?\n/)[0] ?? "");
  }
  const first = await typeSilently(prompt);
  const again = await typeSilently("again: ");
  if (first !== again) throw new Error("the two passwords differ");
  return new TextEncoder().encode(first);
}

function typeSilently(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Raw (no echo) before the question shows: whoever answers it at once must not be echoed.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(prompt);
  let typed = "";
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  const done = (error?: Error) => {
    stdin.off("data", onData);
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
    if (error) reject(error);
    else resolve(typed);
  };
  const onData = (chunk: Buffer) => {
    for (const char of chunk.toString("utf8")) {
      if (char === "\r" || char === "\n") return done();
      if (char === "\u0003" || char === "\u0004") return done(new Error("cancelled"));
      if (char === "\u007f" || char === "\b") typed = [...typed].slice(0, -1).join("");
      else typed += char;
    }
  };
  stdin.on("data", onData);
  return promise;
}
