// `@sitehub/hub/engine.io`: engine.io's module API (listen, attach, Server,
// protocol) over EngineServer, and the engine.io behaviours that running
// engine.io's own test suite against it brought out (issue 15).
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { attach, listen, protocol, Server, type ListeningEngineServer } from '@sitehub/hub/engine.io';
import { EngineServer, type EngineSocket } from '@sitehub/hub';
import { rawExchange, startEngine, upgradeRequest, WsClient, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;
const servers: HttpServer[] = [];
const wsClients: WsClient[] = [];

afterEach(async () => {
  for (const c of wsClients.splice(0)) c.close();
  await t?.close();
  t = undefined;
  for (const http of servers.splice(0)) {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
});

const portOf = (http: HttpServer) => (http.address() as AddressInfo).port;

describe('engine.io module API', () => {
  it('listen(port, opts, cb) serves Engine.IO on a new http.Server that answers 501 elsewhere', async () => {
    const engine: ListeningEngineServer = await new Promise((resolve) => {
      const e = listen(0, { pingInterval: 1234 }, () => resolve(e));
    });
    servers.push(engine.httpServer);
    expect(engine).toBeInstanceOf(Server);
    expect(Server).toBe(EngineServer);
    const port = portOf(engine.httpServer);
    const open = await (await fetch(`http://127.0.0.1:${port}/engine.io/?EIO=4&transport=polling`)).text();
    expect(JSON.parse(open.slice(1)).pingInterval).toBe(1234);
    const other = await fetch(`http://127.0.0.1:${port}/elsewhere`);
    expect(other.status).toBe(501);
    expect(await other.text()).toBe('Not Implemented');
  });

  it('attach(httpServer, opts) takes the server and attach options together', async () => {
    const http = createServer();
    servers.push(http);
    const engine = attach(http, { path: '/rt', pingTimeout: 4321 });
    expect(engine).toBeInstanceOf(EngineServer);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const open = await (await fetch(`http://127.0.0.1:${portOf(http)}/rt/?EIO=4&transport=polling`)).text();
    expect(JSON.parse(open.slice(1)).pingTimeout).toBe(4321);
    engine.close();
    expect(protocol).toBe(4);
  });

  it('new Server() exposes the ws WebSocketServer that takes its upgrades as engine.ws', async () => {
    const engine = new Server();
    expect(engine.ws).toBeInstanceOf(WebSocketServer);
    expect(engine.ws).toBe(engine.ws);
    const http = createServer();
    servers.push(http);
    engine.attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const upgraded = new Promise((resolve) => engine.ws.once('headers', resolve));
    const client = new WsClient(`ws://127.0.0.1:${portOf(http)}/engine.io/?EIO=4&transport=websocket`);
    wsClients.push(client);
    await upgraded;
    engine.close();
  });
});

describe('engine.io behaviours', () => {
  it('a handshake without EIO is a v3 client: refused with protocol 3 unless allowEIO3', async () => {
    t = await startEngine();
    const errors: Array<{ code: number; context?: Record<string, unknown> }> = [];
    t.engine.on('connection_error', (e) => errors.push(e));
    const refused = await fetch(`${t.base}?transport=polling`);
    expect(refused.status).toBe(400);
    expect(errors[0]).toMatchObject({ code: 5, context: { protocol: 3 } });
    await t.close();
    t = await startEngine({ allowEIO3: true });
    const text = await (await fetch(`${t.base}?transport=polling`)).text();
    // The v3 polling payload framing: <length>:<packet>.
    expect(text).toMatch(/^\d+:0\{"sid"/);
  });

  it('connection_error carries the code\'s message; allowRequest\'s own message goes in the body and the context', async () => {
    t = await startEngine({ allowRequest: (_req, cb) => cb('Thou shall not pass', false) });
    const errors: Array<{ code: number; message: string; context?: Record<string, unknown> }> = [];
    t.engine.on('connection_error', (e) => errors.push(e));
    const res = await fetch(t.url('polling'));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ code: 4, message: 'Thou shall not pass' });
    expect(errors[0]).toMatchObject({ code: 4, message: 'Forbidden', context: { message: 'Thou shall not pass' } });
  });

  it('cookie path false leaves the Path attribute out', async () => {
    t = await startEngine({ cookie: { path: false } });
    const res = await fetch(t.url('polling'));
    const sid = JSON.parse((await res.text()).slice(1)).sid;
    expect(res.headers.get('set-cookie')).toBe(`io=${sid}; HttpOnly; SameSite=Lax`);
  });

  it('a CORS preflight carries the exposed headers, as the cors package does', async () => {
    t = await startEngine({ cors: { origin: 'http://good.example', exposedHeaders: ['my-exposed-header'], optionsSuccessStatus: 200 } });
    const res = await fetch(t.url('polling'), { method: 'OPTIONS', headers: { Origin: 'http://good.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-expose-headers')).toBe('my-exposed-header');
  });

  it('by default a foreign upgrade nobody answers is ended after destroyUpgradeTimeout', async () => {
    t = await startEngine({}, { attach: { destroyUpgradeTimeout: 50 } });
    const started = Date.now();
    const { text, closedByPeer } = await rawExchange(t.port, upgradeRequest('/elsewhere'), { timeoutMs: 3000 });
    expect(text).toBe('');
    expect(closedByPeer).toBe(true);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('destroyUpgrade: false leaves a foreign upgrade alone', async () => {
    t = await startEngine({}, { attach: { destroyUpgrade: false, destroyUpgradeTimeout: 50 } });
    const sockets: Socket[] = [];
    t.http.on('connection', (socket: Socket) => sockets.push(socket));
    const { closedByPeer } = await rawExchange(t.port, upgradeRequest('/elsewhere'), { timeoutMs: 400 });
    expect(closedByPeer).toBe(false);
    // Left alone means left to us: the server side is still open.
    expect(sockets.map((s) => s.destroyed)).toEqual([false]);
    for (const socket of sockets) socket.destroy();
  });

  it('close() on a WebSocket session delivers what was queued behind a frame in flight first', async () => {
    t = await startEngine({}, { withEcho: false });
    const connection = new Promise<EngineSocket>((resolve) => t!.engine.once('connection', resolve));
    const client = new WsClient(t.url('websocket'));
    wsClients.push(client);
    const socket = await connection;
    socket.send('a');
    socket.send('b');
    socket.send('c');
    socket.close();
    expect(await client.nextText()).toMatch(/^0/);
    expect([await client.nextText(), await client.nextText(), await client.nextText()]).toEqual(['4a', '4b', '4c']);
    await client.waitClose();
  });

  it('a transport failure reaches close listeners as an Error, as engine.io passes it', async () => {
    t = await startEngine();
    const connection = new Promise<EngineSocket>((resolve) => t!.engine.once('connection', resolve));
    const { sid } = JSON.parse((await (await fetch(t.url('polling'))).text()).slice(1));
    const socket = await connection;
    const closed = new Promise<unknown[]>((resolve) => socket.once('close', (...args: unknown[]) => resolve(args)));
    const controller = new AbortController();
    const pending = fetch(t.url('polling', { sid }), { signal: controller.signal }).catch(() => 'aborted');
    // Abort only once the server holds the poll (nothing to send yet: its transport is writable).
    for (let i = 0; i < 200 && !socket.transport.writable; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(socket.transport.writable).toBe(true);
    controller.abort();
    await pending;
    const [reason, description] = await closed;
    expect(reason).toBe('transport error');
    expect(description).toBeInstanceOf(Error);
    expect((description as Error).message).toBe('poll connection closed prematurely');
  });
});
