// A tiny status server: GET /healthz answers the state of both links,
// 200 when both are up, 503 otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts the status server; resolves with it and its port. */
export async function startHealthServer(port: number, host: string, status: () => { ok: boolean }): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/healthz' && req.url !== '/readyz')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const body = status();
    res.writeHead(body.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
