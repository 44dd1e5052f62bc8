// engine.io's module API (`listen`, `attach`, `Server`, `Socket`,
// `protocol`) over EngineServer, so that code written for the `engine.io`
// package runs by changing the import to `@sitehub/hub/engine.io`. Nothing
// here adds behaviour: each function is the few lines engine.io's module
// documents around its server class.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AttachOptions } from './attach.js';
import type { EngineServerOptions } from './options.js';
import { EngineServer } from './server.js';

export { EngineServer as Server } from './server.js';
export { EngineSocket as Socket } from './socket.js';
export type { EngineServerOptions as ServerOptions } from './options.js';
export type { AttachOptions } from './attach.js';

/** The Engine.IO protocol revision this server speaks (v3 too with `allowEIO3`). */
export const protocol = 4;

/** Options of `listen` and `attach`: the server's and the attachment's together, as engine.io takes them. */
export type ListenOptions = Partial<EngineServerOptions> & AttachOptions;

/** An EngineServer made by `listen`, with the http.Server it created. */
export type ListeningEngineServer = EngineServer & { httpServer: HttpServer };

/**
 * Creates an http.Server that answers 501 outside the Engine.IO path,
 * attaches a new EngineServer to it and listens on `port`.
 */
export function listen(port: number, options?: ListenOptions | (() => void), listening?: () => void): ListeningEngineServer {
  if (typeof options === 'function') {
    listening = options;
    options = {};
  }
  const httpServer = createServer((_req, res) => {
    res.writeHead(501);
    res.end('Not Implemented');
  });
  const engine = attach(httpServer, options ?? {}) as ListeningEngineServer;
  engine.httpServer = httpServer;
  httpServer.listen(port, listening);
  return engine;
}

/** Creates an EngineServer with `options` and attaches it to `httpServer`. */
export function attach(httpServer: HttpServer, options: ListenOptions = {}): EngineServer {
  return new EngineServer(options).attach(httpServer, options);
}
