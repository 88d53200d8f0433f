// Every transcript against a server in this process, in both connection modes.

import { testServer } from "../support/server.ts";
import { broadcast } from "./broadcast.ts";
import { delivery } from "./delivery.ts";
import { failures } from "./failures.ts";
import { runScenarios } from "./runner.ts";

runScenarios({ name: "in-process server", start: async (limits) => testServer(limits) }, [...delivery, ...broadcast, ...failures]);
