// The hook for serving the browser client bundle at `<path>/socket.io.js`
// (the `serveClient` option). The bundle is built by another part of the
// project; it registers a handler with setClientBundleHandler() and from then
// on every Server created with serveClient (the default) answers those URLs.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';

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

let bundleHandler: ClientBundleHandler | undefined;

/** Registers (or with undefined, removes) the handler that serves the client bundle. */
export function setClientBundleHandler(handler: ClientBundleHandler | undefined): void {
  bundleHandler = handler;
}

/** Puts a bundle-serving step in front of the http server's request listeners (the engine's included). */
export function attachClientBundle(httpServer: HttpServer, path: string): void {
  const previous = httpServer.listeners('request').slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  httpServer.removeAllListeners('request');
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const file = bundleFile(req.url, path);
    // Looked up per request: the bundle may be registered after the server started.
    if (file && bundleHandler?.(req, res, file)) return;
    for (const listener of previous) listener.call(httpServer, req, res);
  });
}

function bundleFile(url: string | undefined, path: string): string | undefined {
  if (!url || !url.startsWith(path + '/')) return undefined;
  const file = url.slice(path.length + 1).split('?')[0]!;
  return CLIENT_BUNDLE_FILES.has(file) ? file : undefined;
}
