// sitehub's Server on a fresh http server at 127.0.0.1, ephemeral port: the one
// starter the realtime, browser and interop tests share.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type ServerOptions } from '@sitehub/hub';

export interface StartedServer {
  io: Server;
  httpServer: HttpServer;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Closes the sessions, then the http server (as socket.io's close() does). */
  close(): Promise<void>;
}

/** Starts a Server; `app` answers every request the Server does not. */
export async function startSitehubServer(
  opts: Partial<ServerOptions> = {},
  app?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<StartedServer> {
  const httpServer = app ? createServer(app) : createServer();
  const io = new Server(httpServer, opts);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    io,
    httpServer,
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      // Idle keep-alive connections would otherwise hold the http server open.
      httpServer.closeAllConnections();
      await io.close();
    },
  };
}
