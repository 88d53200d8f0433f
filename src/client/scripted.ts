// The scripted mode, for stdin that is a pipe or a file: one message per input
// line, one outcome per message in input order, exit 0 only if every message
// was delivered and the connection held.

import { createInterface } from "node:readline";
import { connectFailure } from "./address.ts";
import { exitFailed, exitOk, flushStdout, waitForSignal } from "./exit.ts";
import { helpLines, parseLine, type Address } from "./input.ts";
import { defaultHost, type ClientOptions } from "./options.ts";
import { ScriptedOutput } from "./scripted-output.ts";
import type { Outcome } from "./outcome.ts";
import { Session } from "./session.ts";

export async function runScripted(options: ClientOptions & { readonly user: string }): Promise<number> {
  const { user } = options;
  const address: Address = { host: options.host ?? defaultHost, port: options.port };
  const output = new ScriptedOutput(options, address, user);
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
    tls: options.tls,
    password: options.password,
    user,
    reconnect: options.reconnect ? undefined : false,
    presence: options.presence,
    compat: options.compat,
    maxBodyBytes: options.maxBodyBytes,
    onEvent: (event) => {
      // The first connection is reported below, once connect() has returned.
      output.event(event);
      if ((event.type === "disconnected" || event.type === "reconnect-failed") && event.reconnectInMs === undefined) onLost();
    },
  });

  // Listen for signals from the start, so SIGINT/SIGTERM always end the client the same way.
  const signalled = waitForSignal();
  const error = await Promise.race([session.connect(), signalled.promise.then(() => "signal" as const)]);
  if (error !== undefined) {
    signalled.dispose();
    await session.close();
    if (error === "signal") return exitFailed;
    output.connectFailed(error);
    process.stderr.write(`parley: ${connectFailure(error, address, user)}\n`);
    await flushStdout();
    return exitFailed;
  }
  output.connected(false);

  // Outcomes are printed in input order, each as soon as it and those before it are known.
  let printed: Promise<void> = Promise.resolve();
  const report = (line: number, text: string, outcome: Promise<Outcome | { kind: "invalid"; hint: string }>) => {
    printed = printed.then(async () => {
      const result = await outcome;
      if (result.kind !== "delivered") failures++;
      if (result.kind === "invalid") output.invalid(line, result.hint);
      else output.outcome(line, text, result);
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
      case "who":
        printed = printed.then(async () => output.online(await session.who()));
        return;
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
