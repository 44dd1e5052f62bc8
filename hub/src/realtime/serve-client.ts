// Serving the browser client bundle at `<path>/socket.io.js` and its
// siblings (the `serveClient` option). By default the files come from
// @sitehub/device-client's build (client-bundle-files.ts); an application may
// register its own handler with setClientBundleHandler(), and every Server
// created with serveClient (the default) answers those URLs through it.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { applyCors, type CorsOptions } from '../engine/index.js';
import { createClientBundleFiles } from './client-bundle-files.js';

/** Answers a request for one bundle file; returns false to let the request through (e.g. unknown file). */
export type ClientBundleHandler = (req: IncomingMessage, res: ServerResponse, file: string) => boolean;

/** The file names socket.io serves next to its path. */
export const CLIENT_BUNDLE_FILES: ReadonlySet<string> = new Set([
  'socket.io.js',
  'socket.io.js.map',
  'socket.io.min.js',
  'socket.io.min.js.map',
  'socket.io.esm.min.js',
  'socket.io.esm.min.js.map',
]);

let builtInHandler: ClientBundleHandler | undefined;
let bundleHandler: ClientBundleHandler | undefined;

/** Registers the handler that serves the client bundle; undefined restores the built-in one. */
export function setClientBundleHandler(handler: ClientBundleHandler | undefined): void {
  bundleHandler = handler;
}

function currentHandler(): ClientBundleHandler {
  return bundleHandler ?? (builtInHandler ??= createClientBundleFiles());
}

/**
 * Puts a bundle-serving step in front of the http server's request listeners
 * (the engine's included). With `cors` (the Server's option) the bundle gets
 * the same CORS headers as the Engine.IO requests, so a page on an allowed
 * origin can load it with `crossorigin`, as socket.io does.
 */
export function attachClientBundle(httpServer: HttpServer, path: string, cors?: CorsOptions): void {
  const previous = httpServer.listeners('request').slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  httpServer.removeAllListeners('request');
  const passOn = (req: IncomingMessage, res: ServerResponse) => {
    for (const listener of previous) listener.call(httpServer, req, res);
  };
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const file = bundleFile(req.url, path);
    if (!file) return passOn(req, res);
    // Looked up per request: the bundle may be registered after the server started.
    const handler = currentHandler();
    if (!cors) {
      if (!handler(req, res, file)) passOn(req, res);
      return;
    }
    applyCors(cors, req, res, (err, answered) => {
      if (answered) return;
      if (err) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('CORS origin check failed\n');
        return;
      }
      if (!handler(req, res, file)) passOn(req, res);
    });
  });
}

function bundleFile(url: string | undefined, path: string): string | undefined {
  if (!url || !url.startsWith(path + '/')) return undefined;
  const file = url.slice(path.length + 1).split('?')[0]!;
  return CLIENT_BUNDLE_FILES.has(file) ? file : undefined;
}
