// The interactive mode, for stdin that is a terminal: a readline loop with a
// prompt, messages and outcomes printed above the line being typed, and
// /quit, Ctrl-D or Ctrl-C to leave.

import { createInterface } from "node:readline";
import { describeAddress } from "./address.ts";
import { promptAndConnect } from "./connect-prompt.ts";
import { exitFailed, exitOk, flushStdout, waitForSignal } from "./exit.ts";
import { helpLines, parseLine } from "./input.ts";
import type { ClientOptions } from "./options.ts";
import { connectErrorText, formatDelay, formatOnline, formatOutcome, formatPresence, formatReceived, formatRejected, presenceMissedText, type Style } from "./render.ts";
import { Screen } from "./screen.ts";
import { handleSuspend } from "./suspend.ts";
import type { Session } from "./session.ts";
import type { SessionEvent } from "./session-events.ts";

export async function runInteractive(options: ClientOptions): Promise<number> {
  const style: Style = { color: options.color && process.stdout.isTTY === true };
  const rl = createInterface({ input: process.stdin, output: process.stdout, crlfDelay: Infinity, terminal: true });
  // No prompt until connected: a redraw while connecting (after Ctrl-Z) shows only what was typed.
  rl.setPrompt("");
  const screen = new Screen(rl, style);
  const stopHandlingSuspend = handleSuspend(rl, (text) => screen.notice(text));
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
  let session: Session | undefined;
  // Leaving before ever connecting, after an attempt failed, is a failure (exit 1), however one leaves.
  let connectFailed = false;

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

  const connected = await promptAndConnect({
    options,
    rl,
    screen,
    finished,
    isFinished: () => isFinished,
    onFailure: () => (connectFailed = true),
    onEvent: (address, user) => (event) => onSessionEvent(event, screen, finish, describeAddress(address), user),
  });
  if (connected === undefined) return end();
  session = connected.session;
  const { address, user } = connected;

  screen.notice(`connected to ${describeAddress(address)} as ${user}. Write "@name message" or "@ALL message"; /help for help.`);
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
      case "who":
        void session.who().then((online) => screen.notice(formatOnline(online)));
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
    const code = session === undefined && connectFailed ? exitFailed : await finished;
    signalled.dispose();
    stopHandlingSuspend();
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
    case "presence":
      return screen.notice(formatPresence(event.user, event.online));
    case "presence-missed":
      return screen.notice(presenceMissedText);
  }
}
