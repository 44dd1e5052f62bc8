// Starts sitehub's Server for the shared interop scenarios.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@sitehub/hub';
import type { StartServer } from './scenarios.js';

/** sitehub's Server on a fresh http server at 127.0.0.1, ephemeral port. */
export const startSitehubServer: StartServer = async (opts = {}) => {
  const httpServer = createServer();
  const io = new Server(httpServer, opts);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    io,
    httpServer,
    url: `http://127.0.0.1:${port}`,
    async close() {
      httpServer.closeAllConnections();
      // Closes the sessions, then the http server (as socket.io's close() does).
      await io.close();
    },
  };
};
