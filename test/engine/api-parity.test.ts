// engine.io API a user meets (issue 15): the server's flush and drain
// events, engine.clients as a plain object, the CORS options headers and
// optionsSuccessStatus, and destroyUpgradeTimeout through the Socket.IO Server.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type EngineSocket } from '@sitehub/hub';
import { WsClient, startEngine, type TestEngine } from '../helpers/engine.js';

let t: TestEngine | undefined;
const wsClients: WsClient[] = [];

afterEach(async () => {
  for (const c of wsClients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

describe('engine.io API parity', () => {
  it('emits flush (socket, packets) and drain (socket) on the server', async () => {
    t = await startEngine({}, { withEcho: false });
    const connection = new Promise<EngineSocket>((resolve) => t!.engine.once('connection', resolve));
    const client = new WsClient(t.url('websocket'));
    wsClients.push(client);
    await client.nextText();
    const socket = await connection;
    const events: string[] = [];
    t.engine.on('flush', (s: EngineSocket, packets: Array<{ type: string; data?: unknown }>) => {
      expect(s).toBe(socket);
      events.push(`flush:${packets.map((p) => p.data).join(',')}`);
    });
    t.engine.on('drain', (s: EngineSocket) => events.push(`drain:${s === socket}`));
    socket.send('hello');
    expect(await client.nextText()).toBe('4hello');
    expect(events).toEqual(['flush:hello', 'drain:true']);
  });

  it('emits flush, drain, packet and data on the session, in engine.io\'s order with the server\'s', async () => {
    t = await startEngine({}, { withEcho: false });
    const connection = new Promise<EngineSocket>((resolve) => t!.engine.once('connection', resolve));
    const client = new WsClient(t.url('websocket'));
    wsClients.push(client);
    await client.nextText();
    const socket = await connection;
    const events: string[] = [];
    t.engine.on('flush', () => events.push('server flush'));
    t.engine.on('drain', () => events.push('server drain'));
    socket.on('flush', (packets: Array<{ data?: unknown }>) => events.push(`flush:${packets.map((p) => p.data).join(',')}`));
    socket.on('drain', () => events.push('drain'));
    socket.send('hello');
    expect(await client.nextText()).toBe('4hello');
    expect(events).toEqual(['server flush', 'flush:hello', 'drain', 'server drain']);
    const received: unknown[] = [];
    socket.on('packet', (packet: { type: string; data?: unknown }) => received.push(['packet', packet.type, packet.data]));
    socket.on('data', (data: unknown) => received.push(['data', data]));
    const message = new Promise((resolve) => socket.once('message', resolve));
    client.ws.send('4hi');
    expect(await message).toBe('hi');
    expect(received).toEqual([
      ['packet', 'message', 'hi'],
      ['data', 'hi'],
    ]);
  });

  it('emits packetCreate with engine.io\'s packet shape, options.compress included', async () => {
    t = await startEngine({}, { withEcho: false });
    const connection = new Promise<EngineSocket>((resolve) => t!.engine.once('connection', resolve));
    const client = new WsClient(t.url('websocket'));
    wsClients.push(client);
    await client.nextText();
    const socket = await connection;
    const created: unknown[] = [];
    socket.on('packetCreate', (packet: unknown) => created.push(packet));
    socket.send('a');
    socket.send('b', { compress: false });
    socket.sendPrepared(t.engine.prepare('c'));
    expect(created).toEqual([
      { type: 'message', data: 'a', options: { compress: true } },
      { type: 'message', data: 'b', options: { compress: false } },
      { type: 'message', data: 'c', options: { compress: true } },
    ]);
  });

  it('keeps engine.clients as a plain object keyed by id, without prototype', async () => {
    t = await startEngine({ generateId: () => '__proto__' });
    const res = await fetch(t.url('polling'));
    const { sid } = JSON.parse((await res.text()).slice(1));
    expect(sid).toBe('__proto__');
    expect(Object.keys(t.engine.clients)).toEqual(['__proto__']);
    expect(t.engine.clients['__proto__']!.id).toBe('__proto__');
    expect(t.engine.clientsCount).toBe(1);
    const unknown = await fetch(t.url('polling', { sid: 'constructor' }));
    expect(await unknown.json()).toEqual({ code: 1, message: 'Session ID unknown' });
  });

  it('answers a preflight with cors.headers and cors.optionsSuccessStatus', async () => {
    t = await startEngine({ cors: { origin: 'https://app.example', headers: ['x-token', 'x-site'], optionsSuccessStatus: 200 } });
    const res = await fetch(t.url('polling'), { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-headers')).toBe('x-token,x-site');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('destroys an unanswered upgrade for another path after destroyUpgradeTimeout', async () => {
    const http = createServer();
    const io = new Server(http, { destroyUpgrade: true, destroyUpgradeTimeout: 50 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const socket = connect((http.address() as AddressInfo).port, '127.0.0.1');
      const started = Date.now();
      socket.write('GET /other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(40);
      expect(elapsed).toBeLessThan(900);
    } finally {
      http.closeAllConnections();
      await io.close();
    }
  });
});
