// Runs every program in docs/examples and checks it with socket.io-client.
import type { Server as HttpServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';

interface Started {
  io: { close(): Promise<void> };
  httpServer: HttpServer;
  port: number;
  app?: { close(): Promise<void> };
}

const started: Started[] = [];
const clients: ClientSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of started.splice(0)) {
    if (s.app) {
      await s.app.close();
      continue;
    }
    await s.io.close();
    s.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => s.httpServer.close(() => resolve()));
  }
});

async function run(example: string, extra: Record<string, unknown> = {}): Promise<string> {
  const mod = await import(`../../docs/examples/${example}`);
  const s: Started = await mod.start({ port: 0, host: '127.0.0.1', ...extra });
  started.push(s);
  return `http://127.0.0.1:${s.port}`;
}

function client(url: string, opts: Record<string, unknown> = {}): ClientSocket {
  const c = connect(url, { forceNew: true, reconnection: false, ...opts });
  clients.push(c);
  return c;
}

function next(c: ClientSocket, ev: string, ms = 3000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
    c.once(ev as never, ((arg: unknown) => {
      clearTimeout(timer);
      resolve(arg);
    }) as never);
  });
}

async function connected(c: ClientSocket): Promise<ClientSocket> {
  if (!c.connected) await next(c, 'connect');
  return c;
}

describe('docs/examples', () => {
  it('chat-rooms: join, talk to the room but not to yourself or others, leave', async () => {
    const url = await run('chat-rooms.js');
    const [ada, bob, eve] = await Promise.all([client(url), client(url), client(url)].map(connected));
    expect(await ada!.emitWithAck('joinRoom', { roomName: 'lobby', user: 'ada' })).toEqual({
      code: 0,
      msg: 'joined lobby',
      roomName: 'lobby',
    });
    const joinedNotice = next(ada!, 'receiveMsg');
    await bob!.emitWithAck('joinRoom', { roomName: 'lobby', user: 'bob' });
    expect(await joinedNotice).toEqual({ user: 'system', msg: 'bob joined', roomName: 'lobby' });
    const heard: unknown[] = [];
    eve!.on('receiveMsg', (m) => heard.push(m));
    bob!.on('receiveMsg', (m) => heard.push(m));
    const atAda = next(ada!, 'receiveMsg');
    expect(await bob!.emitWithAck('sendMsg', { roomName: 'lobby', msg: 'hi' })).toEqual({ code: 0, msg: 'hi', roomName: 'lobby' });
    expect(await atAda).toEqual({ user: 'bob', msg: 'hi', roomName: 'lobby' });
    expect(await eve!.emitWithAck('sendMsg', { roomName: 'lobby', msg: 'sneak' })).toMatchObject({ code: 1 });
    const leftNotice = next(ada!, 'receiveMsg');
    expect(await bob!.emitWithAck('leaveRoom', { roomName: 'lobby' })).toEqual({ code: 0, msg: 'left lobby', roomName: 'lobby' });
    expect(await leftNotice).toEqual({ user: 'system', msg: 'bob left', roomName: 'lobby' });
    expect(heard).toEqual([]);
  });

  it('emit-to-all: io.emit and io.sockets.emit reach every client', async () => {
    const url = await run('emit-to-all.js');
    const a = await connected(client(url));
    const secondOnline = next(a, 'online');
    const b = client(url);
    const bOnline = next(b, 'online');
    await connected(b);
    expect(await secondOnline).toBe(2);
    expect(await bOnline).toBe(2);
    const both = Promise.all([next(a, 'announcement'), next(b, 'announcement')]);
    b.emit('announce', 'hello all');
    expect(await both).toEqual([
      { from: b.id, text: 'hello all' },
      { from: b.id, text: 'hello all' },
    ]);
  });

  it('custom-namespace: its own connection handler, nsp.emit stays in the namespace', async () => {
    const url = await run('custom-namespace.js');
    const main = client(url);
    const mainHi = next(main, 'hi');
    const custom = client(`${url}/my-namespace`);
    const customHi = next(custom, 'hi');
    expect(await mainHi).toBe('main namespace');
    expect(await customHi).toBe('my-namespace');
    let mainHeard = 0;
    main.on('shouted', () => mainHeard++);
    const shouted = next(custom, 'shouted');
    custom.emit('shout', 'HEY');
    expect(await shouted).toBe('HEY');
    await new Promise((r) => setTimeout(r, 50));
    expect(mainHeard).toBe(0);
  });

  it('push-on-connection: a custom event on connection, then ticks', async () => {
    const url = await run('push-on-connection.js', { everyMs: 30 });
    const c = client(url);
    const welcome = next(c, 'welcome');
    await connected(c);
    const w = await welcome;
    expect(w.id).toBe(c.id);
    expect(typeof w.serverTime).toBe('number');
    expect(typeof (await next(c, 'tick'))).toBe('number');
  });

  it('server-disconnect: socket.disconnect(true) ends the connection with "io server disconnect"', async () => {
    const url = await run('server-disconnect.js');
    const banned = client(url, { auth: { banned: true } });
    const bye = next(banned, 'bye');
    const reason = next(banned, 'disconnect');
    expect(await bye).toBe('you are banned');
    expect(await reason).toBe('io server disconnect');
    const c = await connected(client(url));
    const gone = next(c, 'disconnect');
    expect(await c.emitWithAck('logout')).toBe('goodbye');
    expect(await gone).toBe('io server disconnect');
  });

  it.each([
    ['attach-http.js', 'http'],
    ['attach-express.js', 'express'],
    ['attach-koa.js', 'koa'],
    ['attach-fastify.js', 'fastify'],
  ])('%s: the app keeps its routes and Socket.IO works over polling and WebSocket', async (file, name) => {
    const url = await run(file);
    expect(await (await fetch(`${url}/`)).text()).toBe(`hello from ${name}`);
    for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
      const c = await connected(client(url, { transports }));
      expect(await c.timeout(2000).emitWithAck('ping')).toBe(`pong from ${name}`);
    }
  });
});
