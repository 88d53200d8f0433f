#!/usr/bin/env bun
// The command line's entry point (`bun src/cli.ts`, `bun build --compile
// src/cli.ts`), and the only reader of process.argv and process.env. The
// commands and their flag tables are in src/cli/.

import { main } from "./cli/main.ts";

process.exit(await main(process.argv.slice(2), process.env));
