// Ctrl-Z in the interactive client. readline holds the terminal in raw mode,
// so the key arrives as a byte, not as the terminal's SIGTSTP: give the
// terminal back, stop the whole job as the terminal itself would (under
// `bun run client` that stops the runner too, so the shell gets its prompt
// back), and take the terminal again on SIGCONT, when `fg` resumes the job.

import { readFileSync } from "node:fs";
import type { Interface } from "node:readline";

/** Handles Ctrl-Z on `rl` until the returned function is called. */
export function handleSuspend(rl: Interface, notice: (text: string) => void): () => void {
  let suspended = false;
  const stop = () => {
    if (!hasJobControl()) {
      notice("Ctrl-Z: nothing here can resume a suspended client (no job control), so it keeps running");
      return;
    }
    suspended = true;
    process.stdin.setRawMode(false);
    // Process group 0 is this process's own: the job the shell suspends and resumes as one.
    process.kill(0, "SIGTSTP");
  };
  const resume = () => {
    if (!suspended) return;
    suspended = false;
    process.stdin.setRawMode(true);
    // Redraws the prompt and the half-typed line, and reads the keyboard again.
    rl.prompt(true);
  };
  rl.on("SIGTSTP", stop);
  process.on("SIGCONT", resume);
  return () => {
    rl.off("SIGTSTP", stop);
    process.off("SIGCONT", resume);
  };
}

/**
 * Whether a shell can resume this process once it stops. A process group
 * that is its session's own (this process leads the session, as under
 * `script -c` or `ssh host cmd`) is orphaned: the kernel discards a stop
 * sent to it, and nothing would send SIGCONT. Without /proc, assume a shell.
 */
function hasJobControl(): boolean {
  try {
    // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses, so split after the last ")".
    const stat = readFileSync("/proc/self/stat", "latin1");
    const [, , group, session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return group !== session;
  } catch {
    return true;
  }
}
