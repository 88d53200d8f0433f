// How long a client waits before each attempt to reconnect: the terminal
// client and the web client back off alike. Pure.

export type Backoff = { readonly initialMs: number; readonly maxMs: number };

/** 0.5 s, doubling to 10 s. */
export const defaultBackoff: Backoff = { initialMs: 500, maxMs: 10_000 };
