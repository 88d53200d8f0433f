// Interactive start-up: ask for what the command line left out (the server's
// address, then the name, as the original design does), connect, and after a
// failure ask again for whichever answer was at fault.

import type { Interface } from "node:readline";
import { isValidUsername } from "../protocol/names.ts";
import { passwordProblem, passwordProblemText } from "../protocol/password.ts";
import { connectFailure, describeAddress } from "./address.ts";
import { parseAddress, type Address } from "./input.ts";
import { defaultHost, type ClientOptions } from "./options.ts";
import { connectErrorText } from "./render.ts";
import type { Screen } from "./screen.ts";
import type { SessionEvent } from "./session-events.ts";
import { Session } from "./session.ts";

export type Connected = { readonly session: Session; readonly address: Address; readonly user: string };

export type ConnectPrompt = {
  readonly options: ClientOptions;
  readonly rl: Interface;
  readonly screen: Screen;
  /** Settles when the run ends (Ctrl-C, a signal): questions and connecting stop waiting then. */
  readonly finished: Promise<unknown>;
  readonly isFinished: () => boolean;
  /** An attempt to connect failed (and the user is asked again). */
  readonly onFailure: () => void;
  /** The event handler for a session connected to `address` as `user`. */
  readonly onEvent: (address: Address, user: string) => (event: SessionEvent) => void;
};

/** Resolves to the registered session, or undefined if the run ended first. */
export async function promptAndConnect(prompt: ConnectPrompt): Promise<Connected | undefined> {
  const { options, rl, screen, finished } = prompt;
  const ask = (question: string): Promise<string | undefined> =>
    Promise.race([new Promise<string>((answer) => rl.question(question, answer)), finished.then(() => undefined)]);
  // A password is typed without echo: readline draws each keystroke through
  // _writeToOutput (Node's readline, which Bun's follows), so only the question is let through.
  const askSilently = async (question: string): Promise<string | undefined> => {
    const drawing = rl as unknown as { _writeToOutput(text: string): void };
    const draw = drawing._writeToOutput;
    drawing._writeToOutput = (text) => {
      if (text.includes(question)) draw.call(rl, question);
      else if (text === "\r\n" || text === "\n") draw.call(rl, text);
    };
    try {
      return await ask(question);
    } finally {
      drawing._writeToOutput = draw;
    }
  };

  let address: Address | undefined = options.host === undefined ? undefined : { host: options.host, port: options.port };
  let lastAddress: Address = address ?? { host: defaultHost, port: options.port };
  let user = options.user;
  let password = options.password;
  while (true) {
    if (address === undefined) {
      const answer = await ask(`Server address [${describeAddress(lastAddress)}]: `);
      if (answer === undefined) return undefined;
      const parsed = parseAddress(answer, lastAddress);
      if ("error" in parsed) {
        screen.error(parsed.error);
        continue;
      }
      address = lastAddress = parsed;
    }
    if (user === undefined) {
      const answer = await ask("Your name: ");
      if (answer === undefined) return undefined;
      const name = answer.trim();
      if (!isValidUsername(name)) {
        screen.error(name.length === 0 ? "a name is needed: 1 to 32 letters and digits" : connectErrorText({ kind: "malformed-name" }, "", name));
        continue;
      }
      user = name;
    }
    const here = address;
    const name = user;
    screen.notice(`connecting to ${describeAddress(here)} as ${name}...`);
    const candidate = new Session({
      host: here.host,
      port: here.port,
      tls: options.tls,
      password,
      user: name,
      reconnect: options.reconnect ? undefined : false,
      presence: options.presence,
      compat: options.compat,
      maxBodyBytes: options.maxBodyBytes,
      onEvent: prompt.onEvent(here, name),
    });
    const error = await Promise.race([candidate.connect(), finished.then(() => undefined)]);
    if (prompt.isFinished()) {
      await candidate.close();
      return undefined;
    }
    if (error === undefined) return { session: candidate, address: here, user: name };
    prompt.onFailure();
    screen.error(connectFailure(error, here, name));
    // docs/protocol.md §7: the name needs a password; ask for it, without echo, and try again.
    if (error.kind === "not-authorized") {
      const typed = await askSilently(`Password for ${name} (not shown): `);
      if (typed === undefined) return undefined;
      const bytes = new TextEncoder().encode(typed);
      const problem = passwordProblem(bytes);
      if (problem !== undefined) screen.error(passwordProblemText[problem]);
      else password = bytes;
      continue;
    }
    // An unreachable server: ask for the address again; a refused name: ask for another.
    if (error.kind === "malformed-name" || error.kind === "name-taken") user = undefined;
    else address = undefined;
  }
}
