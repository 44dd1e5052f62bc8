// The shared interop scenarios with our io() against the reference socket.io
// 4.8.4 Server (test/interop runs them with socket.io-client against ours).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { describe, it } from 'vitest';
import { io } from '@sitehub/device-client';
import { scenarios, type ClientFactory, type StartServer } from '../interop/scenarios.js';

const startServer: StartServer = async (opts = {}) => {
  const httpServer = createServer();
  const server = new Server(httpServer, opts);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    io: server,
    httpServer,
    url: `http://127.0.0.1:${port}`,
    async close() {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

describe('sitehub io() against socket.io 4.8.4 Server', () => {
  for (const scenario of scenarios(io as unknown as ClientFactory)) {
    it(scenario.name, () => scenario.run(startServer), scenario.timeout);
  }
});
