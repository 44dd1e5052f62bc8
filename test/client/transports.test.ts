// Engine.IO side of io(): each transport alone, the upgrade, request options,
// binary, and answering the heartbeat.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { client, next, sleep, startServer, until } from './helpers.js';

describe('transports', () => {
  it('connects over polling only and never opens a WebSocket', async () => {
    const server = await startServer();
    const seen: string[] = [];
    server.io.engine.on('connection', (conn: { transport: { name: string } }) => seen.push(conn.transport.name));
    const socket = client(server.url, { transports: ['polling'] });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await next(socket, 'connect');
    expect(socket.id).toBe(serverSocket.id);
    expect(socket.io.engine?.transport.name).toBe('polling');
    await sleep(300);
    expect(serverSocket.conn.transport.name).toBe('polling');
    expect(seen).toEqual(['polling']);
  });

  it('connects over WebSocket only', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('echo', (x, cb) => cb(x)));
    const socket = client(server.url, { transports: ['websocket'] });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    expect(serverSocket.conn.transport.name).toBe('websocket');
    await expect(socket.emitWithAck('echo', 'hi')).resolves.toBe('hi');
    expect(socket.io.engine?.transport.name).toBe('websocket');
  });

  it('upgrades from polling to WebSocket and keeps every message, in order, across the switch', async () => {
    const server = await startServer();
    const received: number[] = [];
    server.io.on('connection', (s) => s.on('n', (n: number) => received.push(n)));
    const socket = client(server.url);
    const engine = socket.io.engine!;
    const emitRange = (from: number): void => {
      for (let i = from; i < from + 10; i++) socket.emit('n', i);
    };
    engine.once('upgrading', () => emitRange(10)); // while the polling transport pauses
    engine.once('upgrade', () => emitRange(20));
    emitRange(0);
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await until(() => received.length === 30);
    expect(received).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(socket.io.engine?.transport.name).toBe('websocket');
    expect(serverSocket.conn.transport.name).toBe('websocket');
  });

  it('does not upgrade with upgrade: false', async () => {
    const server = await startServer();
    const socket = client(server.url, { upgrade: false });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await sleep(300);
    expect(serverSocket.conn.transport.name).toBe('polling');
    expect(socket.io.engine?.transport.name).toBe('polling');
  });

  it('opens with the first transport of `transports`', async () => {
    const server = await startServer();
    const socket = client(server.url, { transports: ['websocket', 'polling'] });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    expect(serverSocket.conn.transport.name).toBe('websocket');
    expect(socket.io.engine?.transport.name).toBe('websocket');
  });

  it('rememberUpgrade opens the next connection with WebSocket after an upgrade', async () => {
    const server = await startServer();
    const first = client(server.url, { rememberUpgrade: true });
    const [firstServerSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await until(() => firstServerSocket.conn.transport.name === 'websocket');
    first.disconnect();
    client(server.url, { rememberUpgrade: true });
    const [secondServerSocket] = await next<[ServerSocket]>(server.io, 'connection');
    expect(secondServerSocket.conn.transport.name).toBe('websocket');
  });

  it('honours path, query, extraHeaders and timestampRequests', async () => {
    const server = await startServer({ path: '/custom-path/' });
    const urls: string[] = [];
    server.io.engine.on('headers', (_headers: unknown, req: IncomingMessage) => urls.push(req.url ?? ''));
    const socket = client(`${server.url}/?fromUrl=1`, {
      path: '/custom-path',
      query: { token: 'abc' },
      extraHeaders: { 'x-site': 'north' },
      timestampRequests: false,
      transports: ['polling'],
    });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await next(socket, 'connect');
    expect(serverSocket.handshake.query).toMatchObject({ token: 'abc', fromUrl: '1', EIO: '4', transport: 'polling' });
    expect(serverSocket.handshake.headers['x-site']).toBe('north');
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url.startsWith('/custom-path/?')).toBe(true);
      expect(url).not.toMatch(/[?&]t=/);
    }
  });

  it('adds a cache-busting parameter to polling requests by default', async () => {
    const server = await startServer();
    const urls: string[] = [];
    server.io.engine.on('headers', (_h: unknown, req: IncomingMessage) => urls.push(req.url ?? ''));
    const socket = client(server.url, { transports: ['polling'] });
    await next(socket, 'connect');
    const stamps = urls.map((u) => new URL(u, 'http://x').searchParams.get('t'));
    expect(stamps.every((t) => typeof t === 'string' && t.length > 0)).toBe(true);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('keeps the server cookie with withCredentials in Node (sticky sessions)', async () => {
    const server = await startServer({ cookie: { name: 'sticky', httpOnly: true, path: '/' } });
    const cookies: (string | undefined)[] = [];
    server.io.engine.on('headers', (_h: unknown, req: IncomingMessage) => cookies.push(req.headers.cookie));
    const socket = client(server.url, { withCredentials: true });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await until(() => socket.connected && serverSocket.conn.transport.name === 'websocket');
    expect(cookies[0]).toBeUndefined();
    expect(cookies.slice(1)).toContain(`sticky=${(serverSocket.conn as unknown as { id: string }).id}`);
    expect(serverSocket.conn.request.headers.cookie ?? '').not.toContain('sticky'); // the handshake had none
  });

  for (const transports of [['polling'], ['websocket']] as const) {
    it(`carries binary both ways, nested in objects (${transports[0]})`, async () => {
      const server = await startServer();
      server.io.on('connection', (s) => {
        s.on('store', (payload: { meta: { raw: Buffer }; list: Buffer[] }, cb: (x: unknown) => void) => {
          cb({ sizes: [payload.meta.raw.length, payload.list[1]!.length], back: { deep: [payload.meta.raw] } });
        });
        s.emit('frame', { id: 7, parts: [Buffer.from([1, 2]), { bytes: Buffer.from([3, 4, 5]) }] });
      });
      const socket = client(server.url, { transports: [...transports] });
      const [frame] = await next<[{ id: number; parts: [Buffer, { bytes: Buffer }] }]>(socket, 'frame');
      expect(frame.id).toBe(7);
      expect(Buffer.isBuffer(frame.parts[0])).toBe(true);
      expect([...frame.parts[0]]).toEqual([1, 2]);
      expect([...frame.parts[1].bytes]).toEqual([3, 4, 5]);
      const reply = (await socket.emitWithAck('store', {
        meta: { raw: new Uint8Array([9, 8, 7, 6]) },
        list: [Buffer.from('a'), Buffer.from('bcd')],
      })) as { sizes: number[]; back: { deep: Buffer[] } };
      expect(reply.sizes).toEqual([4, 3]);
      expect([...reply.back.deep[0]!]).toEqual([9, 8, 7, 6]);
    });
  }

  it('hands binary over as ArrayBuffer with binaryType "arraybuffer" (the browser default)', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.emit('blob', Buffer.from([5, 6, 7])));
    const socket = client(server.url, { binaryType: 'arraybuffer', transports: ['polling'] });
    const [blob] = await next<[ArrayBuffer]>(socket, 'blob');
    expect(blob).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(blob)]).toEqual([5, 6, 7]);
  });

  it('takes a binaryType set on the engine after creation, as engine.io-client does', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('send-blob', () => s.emit('blob', Buffer.from([1, 2]))));
    for (const transport of ['polling', 'websocket'] as const) {
      const socket = client(server.url, { transports: [transport] });
      await next(socket, 'connect');
      socket.io.engine!.binaryType = 'arraybuffer';
      socket.emit('send-blob');
      const [blob] = await next<[ArrayBuffer]>(socket, 'blob');
      expect(blob, transport).toBeInstanceOf(ArrayBuffer);
      expect([...new Uint8Array(blob)]).toEqual([1, 2]);
    }
  });

  it('answers the server heartbeat, so a connection with a short ping interval stays up', async () => {
    const server = await startServer({ pingInterval: 50, pingTimeout: 100 });
    const socket = client(server.url);
    let pings = 0;
    socket.io.on('ping', () => pings++);
    let disconnected = false;
    socket.on('disconnect', () => (disconnected = true));
    await next(socket, 'connect');
    await sleep(600);
    expect(pings).toBeGreaterThanOrEqual(4);
    expect(disconnected).toBe(false);
  });
});
