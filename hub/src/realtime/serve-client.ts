// Serving the browser client bundle at `<path>/socket.io.js` and its
// siblings (the `serveClient` option). By default the files come from
// @sitehub/device-client's build (client-bundle-files.ts); an application may
// register its own handler with setClientBundleHandler(), and every Server
// created with serveClient (the default) answers those URLs through it.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
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

/** Puts a bundle-serving step in front of the http server's request listeners (the engine's included). */
export function attachClientBundle(httpServer: HttpServer, path: string): void {
  const previous = httpServer.listeners('request').slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  httpServer.removeAllListeners('request');
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const file = bundleFile(req.url, path);
    // Looked up per request: the bundle may be registered after the server started.
    if (file && currentHandler()(req, res, file)) return;
    for (const listener of previous) listener.call(httpServer, req, res);
  });
}

function bundleFile(url: string | undefined, path: string): string | undefined {
  if (!url || !url.startsWith(path + '/')) return undefined;
  const file = url.slice(path.length + 1).split('?')[0]!;
  return CLIENT_BUNDLE_FILES.has(file) ? file : undefined;
}
