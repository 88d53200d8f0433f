// Every transcript (src/conformance: the ones `parley conformance` runs)
// against a server in this process, in both connection modes, over plain TCP
// and over TLS, and over WebSocket, plain and inside TLS (one connection per
// user, docs/protocol.md D44, D54): the same bytes, the same answers.

import { transcripts } from "../../src/conformance/catalogue.ts";
import { startServer } from "../../src/server.ts";
import { testCertificate, testServer } from "../support/server.ts";
import { runScenarios } from "./runner.ts";

runScenarios({ name: "in-process server", start: async (limits) => testServer(limits) }, transcripts);

runScenarios(
  {
    name: "in-process server over TLS",
    async start(limits) {
      const tls = await testCertificate();
      const server = testServer(limits, tls);
      return { port: server.tlsPort!, ca: tls.cert, stop: () => server.stop() };
    },
  },
  transcripts,
);

runScenarios(
  {
    name: "in-process server over WebSocket",
    modes: ["single-connection"],
    async start(limits) {
      const server = startServer({ hostname: "127.0.0.1", port: 0, limits, http: { port: 0 } });
      return { port: server.port, webSocket: `ws://127.0.0.1:${server.httpPort}/ws`, stop: () => server.stop() };
    },
  },
  transcripts,
);

runScenarios(
  {
    name: "in-process server over WebSocket inside TLS",
    modes: ["single-connection"],
    async start(limits) {
      const tls = await testCertificate();
      const server = startServer({ hostname: "127.0.0.1", port: 0, limits, tls: { ...tls, port: 0 }, https: { port: 0 } });
      return { port: server.port, ca: tls.cert, webSocket: `wss://127.0.0.1:${server.httpsPort}/ws`, stop: () => server.stop() };
    },
  },
  transcripts,
);
