// Every transcript against three cluster nodes on a real nats-server, users
// spread over them (docs/protocol.md D57-D60): the same bytes, the same
// answers as one server.

import { testCluster } from "../support/server.ts";
import { transcripts } from "../../src/conformance/catalogue.ts";
import { runScenarios } from "./runner.ts";

runScenarios({ name: "3 cluster nodes", start: (limits) => testCluster(3, limits) }, transcripts);
