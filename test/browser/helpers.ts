// Shared helpers of the browser tests: building the client bundle, and a hub
// Server on an ephemeral loopback port next to a small page-serving app.
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server, ServerOptions } from '@sitehub/hub';
import { startSitehubServer } from '../helpers/hub-server.js';
import { buildBrowserBundles, BROWSER_DIST } from '../../device-client/scripts/build-browser.mjs';

/** Builds the browser bundles into `outDir` (default: the package's dist/browser, as `npm run build`). */
export async function buildBundles(outDir?: string): Promise<Array<{ file: string; bytes: number }>> {
  return buildBrowserBundles(outDir ? { outDir } : {});
}

export const browserDist: string = BROWSER_DIST;

export interface RunningHub {
  io: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

const running = new Set<RunningHub>();

/** A hub Server on 127.0.0.1; `app` answers every request the Server does not. */
export async function startHub(
  opts: Partial<ServerOptions> = {},
  app: (req: IncomingMessage, res: ServerResponse) => void = notFound,
): Promise<RunningHub> {
  const started = await startSitehubServer(opts, app);
  const handle: RunningHub = {
    io: started.io,
    port: started.port,
    url: started.url,
    async close() {
      running.delete(handle);
      await started.close();
    },
  };
  running.add(handle);
  return handle;
}

/** Closes every hub still running. */
export async function closeHubs(): Promise<void> {
  await Promise.all([...running].map((hub) => hub.close()));
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A GET (or `method`) through node:http, body left as sent (no automatic gunzip, unlike fetch). */
export function rawGet(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}
