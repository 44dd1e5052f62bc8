// Engine.IO v3 / Socket.IO v2: the official socket.io-client 2.x (npm alias
// socket.io-client-v2) against sitehub's Server with allowEIO3, over
// WebSocket, over polling alone, and polling upgraded to WebSocket; and a
// Server without allowEIO3 refusing it cleanly.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from '@sitehub/hub';
import { startSitehubServer, type StartedServer } from '../helpers/hub-server.js';

/** The parts of socket.io-client 2.x these tests use. */
interface V2Socket {
  id: string;
  connected: boolean;
  io: { engine: { transport: { name: string } } };
  on(event: string, fn: (...args: any[]) => void): V2Socket;
  once(event: string, fn: (...args: any[]) => void): V2Socket;
  emit(event: string, ...args: any[]): V2Socket;
  close(): V2Socket;
}
type V2Factory = (url: string, opts?: Record<string, unknown>) => V2Socket;

const ioV2 = createRequire(import.meta.url)('socket.io-client-v2') as V2Factory;

let server: StartedServer | undefined;
const clients: V2Socket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = undefined;
});

function connect(path: string, opts: Record<string, unknown>): V2Socket {
  const client = ioV2(server!.url + path, { forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100, ...opts });
  clients.push(client);
  return client;
}

function once<T extends unknown[]>(target: { once(event: string, fn: (...args: any[]) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => target.once(event, (...args: any[]) => resolve(args as T)));
}

const TRANSPORTS: Array<[string, Record<string, unknown>, string]> = [
  ['websocket', { transports: ['websocket'] }, 'websocket'],
  ['polling', { transports: ['polling'] }, 'polling'],
  ['polling upgraded to websocket', {}, 'websocket'],
];

describe.each(TRANSPORTS)('socket.io-client 2.x over %s against allowEIO3', (_name, transportOpts, finalTransport) => {
  it('connects to / without a CONNECT, exchanges events and acks both ways', async () => {
    server = await startSitehubServer({ allowEIO3: true });
    const serverSide = once<[Socket]>(server.io, 'connection');
    const client = connect('/', transportOpts);
    await once(client, 'connect');
    const [socket] = await serverSide;
    expect(socket.conn.protocol).toBe(3);
    // v2 clients take the Engine.IO id as their socket id; so must the server.
    expect(socket.id).toBe(client.id);
    expect(socket.handshake.auth).toEqual({});
    if (finalTransport === 'websocket' && socket.conn.transport.name !== 'websocket') await once(socket.conn, 'upgrade');
    expect(socket.conn.transport.name).toBe(finalTransport);

    socket.on('add', (a: number, b: number, ack: (sum: number) => void) => ack(a + b));
    const sum = await new Promise((resolve) => client.emit('add', 2, 3, resolve));
    expect(sum).toBe(5);

    client.on('question', (text: string, ack: (answer: string) => void) => ack(text.toUpperCase()));
    const answer = await socket.timeout(2000).emitWithAck('question', 'héllo ✓');
    expect(answer).toBe('HÉLLO ✓');

    const received = once<[string, { n: number }]>(client, 'news');
    socket.emit('news', 'a', { n: 1 });
    expect(await received).toEqual(['a', { n: 1 }]);
  });

  it('carries binary both ways, in events and acks', async () => {
    server = await startSitehubServer({ allowEIO3: true });
    const serverSide = once<[Socket]>(server.io, 'connection');
    const client = connect('/', transportOpts);
    const [socket] = await serverSide;
    await once(client, 'connect');

    const fromClient = once<[Buffer, { inner: Buffer }]>(socket, 'upload');
    client.emit('upload', Buffer.from([0, 1, 2, 255]), { inner: Buffer.from('abc') });
    const [bytes, nested] = await fromClient;
    expect([...bytes]).toEqual([0, 1, 2, 255]);
    expect(Buffer.from(nested.inner).toString()).toBe('abc');

    const fromServer = once<[Buffer]>(client, 'download');
    socket.emit('download', Buffer.from([9, 8, 7]));
    expect([...(await fromServer)[0]]).toEqual([9, 8, 7]);

    // A broadcast is encoded once for all recipients (v4 frames): v3 sessions need their own.
    const broadcast = once<[string, Buffer]>(client, 'bcast');
    server!.io.emit('bcast', 'x', Buffer.from([4, 0, 4]));
    const [label, payload] = await broadcast;
    expect([label, [...payload]]).toEqual(['x', [4, 0, 4]]);

    socket.on('echo', (data: Buffer, ack: (data: Buffer) => void) => ack(data));
    const echoed = await new Promise<Buffer>((resolve) => client.emit('echo', Buffer.alloc(3000, 7), resolve));
    expect(Buffer.from(echoed).equals(Buffer.alloc(3000, 7))).toBe(true);
  });

  it('delivers room broadcasts only to the room', async () => {
    server = await startSitehubServer({ allowEIO3: true });
    const io = server.io;
    io.on('connection', (socket: Socket) => socket.on('join', (room: string, ack: () => void) => (socket.join(room), ack())));
    const inRoom = connect('/', transportOpts);
    const outside = connect('/', transportOpts);
    await Promise.all([once(inRoom, 'connect'), once(outside, 'connect')]);
    await new Promise((resolve) => inRoom.emit('join', 'site-a', resolve));

    const got: string[] = [];
    outside.on('alert', () => got.push('outside'));
    const delivered = once<[string]>(inRoom, 'alert');
    io.to('site-a').emit('alert', 'hot');
    expect(await delivered).toEqual(['hot']);
    // A round trip on the outside client: had the broadcast reached it, it would have arrived first.
    for (const socket of io.of('/').sockets.values()) socket.on('ping-me', (ack: () => void) => ack());
    await new Promise((resolve) => outside.emit('ping-me', resolve));
    expect(got).toEqual([]);
  });

  it('reconnects after the server drops the connection', async () => {
    server = await startSitehubServer({ allowEIO3: true });
    const client = connect('/', transportOpts);
    const [first] = await once<[Socket]>(server.io, 'connection');
    await once(client, 'connect');
    const second = once<[Socket]>(server.io, 'connection');
    first.conn.close();
    const [again] = await second;
    await once(client, 'connect');
    expect(again.id).not.toBe(first.id);
    const echoed = once<[string]>(client, 'back');
    again.emit('back', 'ok');
    expect(await echoed).toEqual(['ok']);
  });
});

describe('socket.io-client 2.x namespaces and heartbeat against allowEIO3', () => {
  it('connects to another namespace, its query string as handshake.auth', async () => {
    server = await startSitehubServer({ allowEIO3: true });
    const chat = server.io.of('/chat');
    chat.use((socket, next) => (socket.handshake.auth.token === 'good' ? next() : next(new Error('bad token'))));
    const serverSide = once<[Socket]>(chat, 'connection');
    const client = connect('/chat?token=good&site=a', { transports: ['websocket'] });
    await once(client, 'connect');
    const [socket] = await serverSide;
    expect(socket.id).toBe(client.id);
    expect(socket.id).toMatch(/^\/chat#/);
    expect({ ...socket.handshake.auth }).toEqual({ token: 'good', site: 'a' });
    socket.on('hi', (ack: (s: string) => void) => ack(socket.nsp.name));
    expect(await new Promise((resolve) => client.emit('hi', resolve))).toBe('/chat');
  });

  it('refuses a namespace CONNECT with the middleware message as a string', async () => {
    server = await startSitehubServer({ allowEIO3: true });
    server.io.of('/chat').use((_socket, next) => next(new Error('bad token')));
    const client = connect('/chat?token=wrong', { transports: ['websocket'], reconnection: false });
    const [err] = await once<[unknown]>(client, 'error');
    expect(err).toBe('bad token');
    expect(client.connected).toBe(false);
  });

  it('answers the client pings, so a session outlives several ping intervals', async () => {
    server = await startSitehubServer({ allowEIO3: true, pingInterval: 100, pingTimeout: 200 });
    const [socket] = await Promise.all([
      once<[Socket]>(server.io, 'connection').then(([s]) => [s] as const),
      once(connect('/', { transports: ['websocket'] }), 'connect'),
    ]).then(([s]) => s);
    let heartbeats = 0;
    socket.conn.on('heartbeat', () => heartbeats++);
    const closed: string[] = [];
    socket.on('disconnect', (reason: string) => closed.push(reason));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(closed).toEqual([]);
    expect(heartbeats).toBeGreaterThanOrEqual(3);
  });
});

describe('a Server without allowEIO3', () => {
  it('refuses Engine.IO v3 with code 5, and the v2 client sees a connect_error', async () => {
    server = await startSitehubServer();
    const res = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 5, message: 'Unsupported protocol version' });

    let connections = 0;
    server.io.on('connection', () => connections++);
    for (const transports of [['websocket'], ['polling']]) {
      const client = connect('/', { transports, reconnection: false });
      await once(client, 'connect_error');
      expect(client.connected).toBe(false);
    }
    expect(connections).toBe(0);
  });
});
