// Attaching an EngineServer to an http.Server that may already serve an
// application (Express, Koa, fastify's `.server`, a plain handler): requests
// for the Engine.IO path are ours, everything else behaves exactly as if we
// were not there.
import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EngineServer } from './server.js';

/** Options of `EngineServer.attach`. */
export interface AttachOptions {
  /** Path to serve (default '/engine.io'). */
  path?: string;
  /** Serve `path/` (default) rather than `path`. */
  addTrailingSlash?: boolean;
  /**
   * Upgrade requests for other paths: `true` destroys them if nobody answered
   * within `destroyUpgradeTimeout`; unset (the default), when no other upgrade
   * listener exists they first reach the application as plain requests, and
   * are destroyed if still unanswered then; `false` leaves them alone.
   */
  destroyUpgrade?: boolean;
  /** Milliseconds before an unanswered foreign upgrade is destroyed (default 1000). */
  destroyUpgradeTimeout?: number;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Returns a matcher for the request URLs the engine serves. */
export function pathMatcher(opts: AttachOptions): (url: string | undefined) => boolean {
  const base = (opts.path ?? '/engine.io').replace(/\/$/, '');
  const withSlash = base + '/';
  const strictSlash = opts.addTrailingSlash !== false;
  return (url) => {
    if (url === undefined) return false;
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    // Everything under the path is ours, as in engine.io (`/socket.io/default/`
    // prefixes behind proxies; unknown files get the Engine.IO 400, not a hang).
    return pathname.startsWith(withSlash) || (!strictSlash && pathname === base);
  };
}

/**
 * Takes over the Engine.IO path of `server`.
 *
 * Request listeners present now are wrapped (as engine.io does): they keep
 * receiving every other request and never see ours, so a framework's 404
 * handler cannot answer an Engine.IO request. Attach after the application's
 * handler is installed.
 */
export function attachToHttpServer(engine: EngineServer, server: HttpServer, opts: AttachOptions): void {
  const matches = pathMatcher(opts);
  const previous = server.listeners('request').slice() as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (matches(req.url)) {
      engine.handleRequest(req, res);
      return;
    }
    for (const listener of previous) listener.call(server, req, res);
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (matches(req.url)) {
      engine.handleUpgrade(req, socket, head);
    } else if (opts.destroyUpgrade === true) {
      destroyIfUnanswered(socket, opts.destroyUpgradeTimeout ?? 1000);
    } else {
      if (server.listenerCount('upgrade') === 1) serveAsPlainRequest(server, req, socket as Socket);
      // Otherwise another upgrade listener owns this path. Either way, unless
      // told not to, a socket nobody answered is not left open (engine.io's
      // default, destroyUpgrade true).
      if (opts.destroyUpgrade !== false) destroyIfUnanswered(socket, opts.destroyUpgradeTimeout ?? 1000);
    }
  };
  server.on('upgrade', onUpgrade);
  server.on('close', () => engine.close());
}

function destroyIfUnanswered(socket: Duplex, timeoutMs: number): void {
  setTimeout(() => {
    const written = (socket as Partial<Socket>).bytesWritten ?? 0;
    if (socket.writable && written <= 0) {
      socket.on('error', () => {});
      socket.end();
    }
  }, timeoutMs);
}

/**
 * Node hands an upgrade request to the 'request' listeners when nobody
 * listens for 'upgrade'. Our listener changes that for every path, so when
 * it is the only one, a foreign upgrade is given back to the application as
 * the plain request Node would have made of it.
 */
function serveAsPlainRequest(server: HttpServer, req: IncomingMessage, socket: Socket): void {
  socket.on('error', () => {});
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.end();
  });
  server.emit('request', req, res);
}
