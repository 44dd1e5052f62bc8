// engine.use(): Connect-style middlewares on every Engine.IO request and
// upgrade (the documented way to share express-session or helmet with
// Socket.IO): headers they set reach the answer, a failure refuses with Bad
// Request and is counted, and what they put on `req` reaches the socket.
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import type { Socket } from '@sitehub/hub';
import { WsClient, startEngine, type TestEngine } from '../helpers/engine.js';
import { startSitehubServer, type StartedServer } from '../helpers/hub-server.js';

let t: TestEngine | undefined;
let server: StartedServer | undefined;
const wsClients: WsClient[] = [];
const clients: ClientSocket[] = [];

afterEach(async () => {
  for (const c of wsClients.splice(0)) c.close();
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  await server?.close();
  t = server = undefined;
});

function upgradeHeaders(client: WsClient): Promise<IncomingMessage['headers']> {
  return new Promise((resolve, reject) => {
    client.ws.once('upgrade', (res: IncomingMessage) => resolve(res.headers));
    client.ws.once('unexpected-response', (_req: unknown, res: IncomingMessage) => reject(new Error(`status ${res.statusCode}`)));
  });
}

describe('engine.use()', () => {
  it('runs middlewares in order on polling requests; their headers reach the answer', async () => {
    t = await startEngine();
    const order: string[] = [];
    t.engine.use((req, res, next) => {
      order.push(`a:${(req as unknown as { _query: Record<string, string> })._query.transport}`);
      res.setHeader('X-Frame-Options', 'DENY');
      next();
    });
    t.engine.use(async (_req, res, next) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('b');
      res.setHeader('Set-Cookie', 'session=abc; HttpOnly');
      next();
    });
    const res = await fetch(t.url('polling'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('set-cookie')).toBe('session=abc; HttpOnly');
    expect((await res.text())[0]).toBe('0');
    expect(order).toEqual(['a:polling', 'b']);
  });

  it('runs them on WebSocket upgrades too, their headers in the 101 answer', async () => {
    t = await startEngine();
    let writeHeadCalled = false;
    t.engine.use((_req, res, next) => {
      res.setHeader('X-Seen', 'yes');
      const original = res.writeHead.bind(res);
      // express-session sets its cookie when writeHead is called.
      (res as unknown as { writeHead: () => unknown }).writeHead = () => {
        writeHeadCalled = true;
        res.setHeader('Set-Cookie', 'session=ws');
        return (original as () => unknown)();
      };
      next();
    });
    const client = new WsClient(t.url('websocket'));
    wsClients.push(client);
    const headers = await upgradeHeaders(client);
    expect(headers['x-seen']).toBe('yes');
    expect(headers['set-cookie']).toEqual(['session=ws']);
    expect(writeHeadCalled).toBe(true);
    expect((await client.nextText())[0]).toBe('0');
  });

  it('refuses with Bad Request when a middleware fails, counted, over polling and WebSocket', async () => {
    t = await startEngine();
    const failures = [
      (_req: unknown, _res: unknown, next: (err?: unknown) => void) => next(new Error('no session')),
      () => {
        throw new Error('thrown');
      },
      async () => {
        throw new Error('rejected');
      },
    ];
    let which = 0;
    t.engine.use((req, res, next) => failures[which]!(req, res, next));
    const codes: unknown[] = [];
    t.engine.on('connection_error', (e: { code: number; context?: { name?: string } }) => codes.push(e.context?.name));
    for (which = 0; which < failures.length; which++) {
      const res = await fetch(t.url('polling'));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ code: 3, message: 'Bad request' });
    }
    which = 0;
    const client = new WsClient(t.url('websocket'));
    wsClients.push(client);
    await expect(upgradeHeaders(client)).rejects.toThrow('status 400');
    expect(codes).toEqual(Array(4).fill('MIDDLEWARE_FAILURE'));
    expect(t.engine.metrics.refused.get('middleware')).toBe(4);
    expect(t.engine.clientsCount).toBe(0);
  });

  it('io.engine.use(): what a middleware puts on the request is on socket.request', async () => {
    server = await startSitehubServer();
    server.io.engine.use((req, _res, next) => {
      (req as IncomingMessage & { user?: string }).user = req.headers['x-user'] as string;
      next();
    });
    const connection = new Promise<Socket>((resolve) => server!.io.once('connection', resolve));
    const client = ioClient(server.url, { extraHeaders: { 'x-user': 'alice' }, transports: ['polling', 'websocket'], forceNew: true, reconnection: false });
    clients.push(client);
    const socket = await connection;
    expect((socket.request as IncomingMessage & { user?: string }).user).toBe('alice');
    await new Promise((resolve) => socket.conn.once('upgrade', resolve));
    expect(socket.conn.transport.name).toBe('websocket');
  });
});
