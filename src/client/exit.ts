// How a client run ends, in both modes: its exit codes, SIGINT/SIGTERM as a
// promise, and stdout flushed before the code is handed back to cli.ts.

export const exitOk = 0;
export const exitFailed = 1;

export function waitForSignal(): { promise: Promise<void>; dispose(): void } {
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

export function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}
