// The client's terminal: the only client file that touches stdin and stdout.
// Interactive on a terminal (prompts, a readline that incoming messages never
// garble); scripted otherwise (one message per input line, one outcome line
// per message, exit 0 only if every message was delivered).

import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from "node:readline";
import { isValidUsername } from "../protocol/names.ts";
import { helpLines, parseAddress, parseLine, type Address } from "./input.ts";
import {
  connectErrorText,
  decodeBody,
  formatDelay,
  formatError,
  formatJson,
  formatNotice,
  formatOutcome,
  formatReceived,
  formatRejected,
  reasonText,
  type Style,
} from "./render.ts";
import type { ConnectError } from "./link.ts";
import { Session, type Outcome, type SessionEvent } from "./session.ts";

export type ClientOptions = {
  /** Asked for on a terminal when missing; otherwise `localhost`. */
  readonly host: string | undefined;
  readonly port: number;
  /** Asked for on a terminal when missing; required otherwise. */
  readonly user: string | undefined;
  /** Keep receiving after input ends, until SIGINT/SIGTERM. */
  readonly listen: boolean;
  /** One JSON object per event on stdout; implies the scripted mode. */
  readonly json: boolean;
  readonly reconnect: boolean;
  /** False when NO_COLOR is set; colours also need stdout to be a terminal. */
  readonly color: boolean;
};

export const exitOk = 0;
export const exitFailed = 1;
export const exitUsage = 2;

const defaultHost = "localhost";

export async function runClient(options: ClientOptions): Promise<number> {
  if (process.stdin.isTTY === true && !options.json) return runInteractive(options);
  return runScripted(options);
}

function describe(address: Address): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function connectFailure(error: ConnectError, address: Address, user: string): string {
  return connectErrorText(error, describe(address), user);
}

// ---------------------------------------------------------------------------
// Scripted mode: stdin is a pipe or a file.

async function runScripted(options: ClientOptions): Promise<number> {
  const json = options.json;
  const style: Style = { color: options.color && process.stdout.isTTY === true && !json };
  const out = (line: string) => process.stdout.write(line + "\n");
  const status = (event: Record<string, unknown>, text: string) => (json ? out(formatJson(event)) : process.stderr.write(formatNotice(text, style) + "\n"));
  const user = options.user;
  if (user === undefined) {
    process.stderr.write("parley: --user (or PARLEY_USER) is needed when stdin is not a terminal\n");
    return exitUsage;
  }
  const address: Address = { host: options.host ?? defaultHost, port: options.port };
  let failures = 0;
  let isLost = false;
  const { promise: lost, resolve } = Promise.withResolvers<void>();
  // The connection is gone for good (--no-reconnect, or a reconnect that cannot succeed): exit 1.
  const onLost = () => {
    isLost = true;
    resolve();
  };

  const session = new Session({
    host: address.host,
    port: address.port,
    user,
    reconnect: options.reconnect ? undefined : false,
    onEvent: (event) => {
      switch (event.type) {
        case "received":
          return out(json ? formatJson({ event: "received", from: event.from, text: decodeBody(event.body), bytes: event.body.length }) : formatReceived(event.from, event.body, style));
        case "rejected":
          return status({ event: "rejected", from: event.from, bytes: event.body.length }, formatRejected(event.from, event.body, { color: false }));
        case "connected":
          // The first connection is reported below, once connect() has returned.
          if (event.reconnected) status({ event: "connected", user, host: address.host, port: address.port, reconnected: true }, `reconnected to ${describe(address)} as ${user}`);
          return;
        case "disconnected":
          status(
            { event: "disconnected", reason: event.reason, reconnectInMs: event.reconnectInMs ?? null },
            `connection lost: ${event.reason}${event.reconnectInMs === undefined ? "" : `; reconnecting in ${formatDelay(event.reconnectInMs)}`}`,
          );
          if (event.reconnectInMs === undefined) onLost();
          return;
        case "reconnect-failed":
          status(
            { event: "reconnect-failed", error: event.error.kind, message: connectFailure(event.error, address, user), reconnectInMs: event.reconnectInMs ?? null },
            `${connectFailure(event.error, address, user)}${event.reconnectInMs === undefined ? "" : `; next try in ${formatDelay(event.reconnectInMs)}`}`,
          );
          if (event.reconnectInMs === undefined) onLost();
          return;
        case "protocol-error":
          return status({ event: "protocol-error", detail: event.detail }, `the server sent something unreadable: ${event.detail}`);
      }
    },
  });

  // Listen for signals from the start, so SIGINT/SIGTERM always end the client the same way.
  const signalled = waitForSignal();
  const error = await Promise.race([session.connect(), signalled.promise.then(() => "signal" as const)]);
  if (error !== undefined) {
    signalled.dispose();
    await session.close();
    if (error === "signal") return exitFailed;
    process.stderr.write(`parley: ${connectFailure(error, address, user)}\n`);
    return exitFailed;
  }
  status({ event: "connected", user, host: address.host, port: address.port, reconnected: false }, `connected to ${describe(address)} as ${user}`);

  // Outcomes are printed in input order, each as soon as it and those before it are known.
  let printed: Promise<void> = Promise.resolve();
  const report = (line: number, text: string, outcome: Promise<Outcome | { kind: "invalid"; hint: string }>) => {
    printed = printed.then(async () => {
      const result = await outcome;
      if (result.kind !== "delivered") failures++;
      if (result.kind === "invalid") {
        return void out(json ? formatJson({ event: "invalid", line, hint: result.hint }) : formatError(`not sent (line ${line}): ${result.hint}`, style));
      }
      if (!json) return void out(formatOutcome(result, text, style));
      const base = { line, to: result.to, text };
      out(formatJson(result.kind === "delivered" ? { event: "delivered", ...base } : { event: "failed", ...base, reason: result.reason, message: reasonText[result.reason] }));
    });
  };

  const { promise: inputEnded, resolve: endInput } = Promise.withResolvers<void>();
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  let reading = true;
  rl.on("line", (line) => {
    if (!reading) return;
    lineNumber++;
    const command = parseLine(line);
    switch (command.kind) {
      case "message":
        return report(lineNumber, command.text, session.send(command.to, command.body));
      case "invalid":
        // A line that cannot be sent is a message that was not delivered.
        return report(lineNumber, line, Promise.resolve(command));
      case "help":
        return process.stderr.write(helpLines.join("\n") + "\n");
      case "quit":
        reading = false;
        rl.close();
        return;
      case "empty":
        return;
    }
  });
  rl.on("close", () => {
    reading = false;
    endInput();
  });

  // Without --no-reconnect a lost connection is retried, so only a signal ends listening.
  await Promise.race([inputEnded.then(() => printed), lost, signalled.promise]);
  if (options.listen) await Promise.race([lost, signalled.promise]);
  signalled.dispose();
  rl.close();
  await session.close();
  await printed;
  await flushStdout();
  return failures === 0 && !isLost ? exitOk : exitFailed;
}

function waitForSignal(): { promise: Promise<void>; dispose(): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  const onSignal = () => resolve();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    promise,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}

// ---------------------------------------------------------------------------
// Interactive mode: stdin is a terminal.

/** Prints whole lines above the line being typed: clear it, print, redraw the prompt and the typed text. */
class Screen {
  readonly rl: Interface;
  readonly style: Style;
  /** True while the chat prompt is shown (not during the startup questions). */
  isPrompting = false;

  constructor(rl: Interface, style: Style) {
    this.rl = rl;
    this.style = style;
  }

  print(text: string): void {
    const out = process.stdout;
    if (!this.isPrompting) {
      out.write(text + "\n");
      return;
    }
    // Go to the first row of the prompt (the typed text may wrap), clear to the
    // end of the screen, print, then draw the prompt and the typed text again
    // and put the cursor back where it was within them. The layout readline
    // knows is unchanged, only moved down, so its own redraws stay right.
    const rl = this.rl;
    const at = rl.getCursorPos();
    if (at.rows > 0) moveCursor(out, 0, -at.rows);
    cursorTo(out, 0);
    clearScreenDown(out);
    out.write(`${text}\n${rl.getPrompt()}${rl.line}`);
    const end = endOfInput(rl);
    // At an exact multiple of the width the terminal waits to wrap; make it wrap now.
    if (end.cols === 0 && end.rows > 0) out.write(" \r");
    moveCursor(out, at.cols - end.cols, at.rows - end.rows);
    // Bun 1.4.5's readline does not update its private row count when typed
    // text wraps, so its next redraw climbs too few rows; tell it the truth.
    const internal = rl as unknown as { prevRows?: number };
    if (typeof internal.prevRows === "number") internal.prevRows = at.rows;
  }

  notice(text: string): void {
    this.print(formatNotice(text, this.style));
  }

  error(text: string): void {
    this.print(formatError(text, this.style));
  }
}

/** Where the cursor is after the prompt and the whole typed line, as readline counts rows and columns. */
function endOfInput(rl: Interface): { rows: number; cols: number } {
  // getCursorPos() measures up to the cursor; measure up to the end instead.
  const editable = rl as { cursor: number };
  const cursor = editable.cursor;
  editable.cursor = rl.line.length;
  const end = rl.getCursorPos();
  editable.cursor = cursor;
  return end;
}

async function runInteractive(options: ClientOptions): Promise<number> {
  const style: Style = { color: options.color && process.stdout.isTTY === true };
  const rl = createInterface({ input: process.stdin, output: process.stdout, crlfDelay: Infinity, terminal: true });
  const screen = new Screen(rl, style);
  const { promise: finished, resolve } = Promise.withResolvers<number>();
  let isFinished = false;
  const finish = (code: number) => {
    isFinished = true;
    resolve(code);
  };
  const outstanding = new Set<Promise<unknown>>();
  let quitting = false;
  // Whether the cursor sits at the start of a line (else a newline is due before leaving).
  let atLineStart = false;

  // /quit and Ctrl-D: leave once the messages in flight have their answers.
  const quit = async (how: "command" | "end of input") => {
    if (quitting) return;
    screen.isPrompting = false;
    if (how === "end of input") process.stdout.write("\n");
    atLineStart = true;
    if (how === "end of input" && options.listen && session !== undefined) {
      // --listen: input is over, receiving is not; Ctrl-C (SIGINT) or SIGTERM ends it.
      screen.notice("input ended; still receiving (--listen); Ctrl-C to leave");
      atLineStart = false; // the terminal echoes ^C
      return;
    }
    quitting = true;
    if (outstanding.size > 0) {
      screen.notice(`waiting for ${outstanding.size} answer(s); Ctrl-C to leave now`);
      await Promise.all(outstanding);
    }
    finish(exitOk);
  };
  rl.on("close", () => void quit("end of input"));
  // Ctrl-C: leave now.
  rl.on("SIGINT", () => finish(exitOk));
  const signalled = waitForSignal();
  signalled.promise.then(() => finish(exitOk));

  const ask = (question: string): Promise<string | undefined> =>
    Promise.race([new Promise<string>((answer) => rl.question(question, answer)), finished.then(() => undefined)]);

  // Ask for what is missing: the server's address, then the name, as the original design does.
  let address: Address | undefined = options.host === undefined ? undefined : { host: options.host, port: options.port };
  let lastAddress: Address = address ?? { host: defaultHost, port: options.port };
  let user = options.user;
  let session: Session | undefined;
  while (session === undefined) {
    if (address === undefined) {
      const answer = await ask(`Server address [${describe(lastAddress)}]: `);
      if (answer === undefined) break;
      const parsed = parseAddress(answer, lastAddress);
      if ("error" in parsed) {
        screen.error(parsed.error);
        continue;
      }
      address = lastAddress = parsed;
    }
    if (user === undefined) {
      const answer = await ask("Your name: ");
      if (answer === undefined) break;
      const name = answer.trim();
      if (!isValidUsername(name)) {
        screen.error(name.length === 0 ? "a name is needed: 1 to 32 letters and digits" : connectErrorText({ kind: "malformed-name" }, "", name));
        continue;
      }
      user = name;
    }
    const here = address;
    const name = user;
    screen.notice(`connecting to ${describe(here)} as ${name}...`);
    const candidate = new Session({
      host: here.host,
      port: here.port,
      user: name,
      reconnect: options.reconnect ? undefined : false,
      onEvent: (event) => onSessionEvent(event, screen, finish, describe(here), name),
    });
    const error = await Promise.race([candidate.connect(), finished.then(() => undefined)]);
    if (isFinished) {
      await candidate.close();
      break;
    }
    if (error === undefined) {
      session = candidate;
      break;
    }
    screen.error(connectFailure(error, here, name));
    // An unreachable server: ask for the address again; a refused name: ask for another.
    if (error.kind === "malformed-name" || error.kind === "name-taken") user = undefined;
    else address = undefined;
  }
  if (session === undefined || address === undefined) return end();

  screen.notice(`connected to ${describe(address)} as ${user}. Write "@name message" or "@ALL message"; /help for help.`);
  rl.setPrompt(`${user}> `);
  screen.isPrompting = true;
  rl.prompt();

  rl.on("line", (line) => {
    if (quitting) return;
    const command = parseLine(line);
    switch (command.kind) {
      case "message": {
        const printed = session.send(command.to, command.body).then((outcome) => screen.print(formatOutcome(outcome, command.text, style)));
        outstanding.add(printed);
        printed.then(() => outstanding.delete(printed));
        break;
      }
      case "invalid":
        screen.error(command.hint);
        break;
      case "help":
        for (const help of helpLines) screen.notice(help);
        break;
      case "quit":
        void quit("command");
        return;
      case "empty":
        break;
    }
    rl.prompt();
  });

  return end();

  async function end(): Promise<number> {
    const code = await finished;
    signalled.dispose();
    if (!atLineStart) process.stdout.write("\n");
    atLineStart = true; // rl.close() below runs the close handler
    quitting = true;
    rl.close();
    await session?.close();
    await flushStdout();
    return code;
  }
}

function onSessionEvent(event: SessionEvent, screen: Screen, finish: (code: number) => void, address: string, user: string): void {
  switch (event.type) {
    case "received":
      return screen.print(formatReceived(event.from, event.body, screen.style));
    case "rejected":
      return screen.print(formatRejected(event.from, event.body, screen.style));
    case "connected":
      if (event.reconnected) screen.notice(`reconnected to ${address} as ${user}`);
      return;
    case "disconnected":
      if (event.reconnectInMs === undefined) {
        screen.error(`connection lost: ${event.reason}`);
        return finish(exitFailed);
      }
      return screen.error(`connection lost: ${event.reason}; reconnecting in ${formatDelay(event.reconnectInMs)}`);
    case "reconnect-failed": {
      const text = connectErrorText(event.error, address, user);
      if (event.reconnectInMs === undefined) {
        screen.error(text);
        return finish(exitFailed);
      }
      return screen.notice(`${text}; next try in ${formatDelay(event.reconnectInMs)}`);
    }
    case "protocol-error":
      return screen.error(`the server sent something unreadable: ${event.detail}`);
  }
}
