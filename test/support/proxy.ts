// A loopback TCP proxy whose upstream connections leave from a chosen local
// address, so a Peer can reach the server "from" 127.0.0.2. Bun.connect has no
// local-address option in Bun 1.4.5; node:net's `localAddress` does, and Linux
// routes all of 127.0.0.0/8 to the loopback interface. Used for the pairing
// guard (PROTOCOL.md §3), which compares remote IP addresses.

import net from "node:net";

export type Proxy = AsyncDisposable & { readonly port: number };

export async function proxyFrom(localAddress: string, targetPort: number): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A reset on one side is seen as a close on the other; nothing to report.
    socket.on("error", () => socket.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort, localAddress });
    track(client);
    track(upstream);
    // pipe() carries each side's FIN to the other, so closes stay visible to the Peer.
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.end());
  });
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  server.once("error", reject);
  server.listen(0, "127.0.0.1", resolve);
  await promise;
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
