// The interop scenarios with the official socket.io-client 4.8.4 against our Server.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { Server } from '@sitehub/hub';
import { scenarios, type ClientFactory, type StartServer } from './scenarios.js';

const startServer: StartServer = async (opts = {}) => {
  const httpServer = createServer();
  const io = new Server(httpServer, opts);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    io,
    httpServer,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await io.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
};

describe('socket.io-client 4.8.4 against sitehub Server', () => {
  for (const scenario of scenarios(ioClient as unknown as ClientFactory)) {
    it(scenario.name, () => scenario.run(startServer), scenario.timeout);
  }
});
