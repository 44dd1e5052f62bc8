// The Socket API: auth, acks, emitWithAck, timeout(), volatile, catch-all
// listeners, refusals and disconnect reasons.
import { describe, expect, it } from 'vitest';
import type { Socket as ServerSocket } from 'socket.io';
import { client, next, sleep, startServer, until } from './helpers.js';

describe('auth', () => {
  it('sends an auth object in CONNECT', async () => {
    const server = await startServer();
    client(server.url, { auth: { token: 'secret', site: 3 } });
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    expect(serverSocket.handshake.auth).toEqual({ token: 'secret', site: 3 });
  });

  it('calls an auth function on every connection', async () => {
    const server = await startServer();
    let calls = 0;
    const socket = client(server.url, {
      auth: (cb) => {
        calls++;
        // Asynchronous on purpose: a token fetched on demand. The second
        // call of cb must be ignored (a second CONNECT would close everything).
        setTimeout(() => {
          cb({ token: `t${calls}` });
          cb({ token: 'again' });
        }, 5);
      },
    });
    const [first] = await next<[ServerSocket]>(server.io, 'connection');
    expect(first.handshake.auth).toEqual({ token: 't1' });
    first.conn.close(); // transport drops; the client reconnects
    const [second] = await next<[ServerSocket]>(server.io, 'connection');
    expect(second.handshake.auth).toEqual({ token: 't2' });
    await until(() => socket.connected);
    await sleep(100);
    expect(socket.connected).toBe(true);
    expect(second.connected).toBe(true);
  });

  it('reports a middleware refusal as connect_error with data, and stops', async () => {
    const server = await startServer();
    server.io.use((socket, nextFn) => {
      const err = new Error('not authorized') as Error & { data?: unknown };
      err.data = { code: 'E_TOKEN', retryAfter: 30 };
      nextFn(socket.handshake.auth.token === 'good' ? undefined : err);
    });
    const socket = client(server.url, { auth: { token: 'bad' } });
    const [err] = await next<[Error & { data?: unknown }]>(socket, 'connect_error');
    expect(err.message).toBe('not authorized');
    expect(err.data).toEqual({ code: 'E_TOKEN', retryAfter: 30 });
    expect(socket.active).toBe(false);
    expect(socket.connected).toBe(false);
    // Manual retry with new credentials, as socket.io-client users do.
    socket.auth = { token: 'good' };
    socket.connect();
    await next(socket, 'connect');
  });
});

describe('acknowledgements', () => {
  it('gets acks from the server and answers the server\'s acks', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('add', (a: number, b: number, cb: (sum: number) => void) => cb(a + b)));
    const socket = client(server.url);
    socket.on('question', (q: string, cb: (answer: string) => void) => cb(`answer to ${q}`));
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');

    const sum = await new Promise((resolve) => socket.emit('add', 2, 3, resolve));
    expect(sum).toBe(5);
    const answer = await serverSocket.timeout(2000).emitWithAck('question', 'life');
    expect(answer).toBe('answer to life');
  });

  it('emitWithAck resolves with the ack and rejects when it times out', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => {
      s.on('fast', (cb: (x: string) => void) => cb('done'));
      s.on('never', () => undefined);
    });
    const socket = client(server.url);
    await expect(socket.emitWithAck('fast')).resolves.toBe('done');
    await expect(socket.timeout(100).emitWithAck('never')).rejects.toThrow('operation has timed out');
  });

  it('timeout(ms) puts an error first in the ack callback', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => {
      s.on('slow', (cb: (x: string) => void) => setTimeout(() => cb('late'), 300));
      s.on('quick', (cb: (x: string) => void) => cb('ok'));
    });
    const socket = client(server.url);
    const quick = await new Promise<unknown[]>((resolve) =>
      socket.timeout(1000).emit('quick', (...args: unknown[]) => resolve(args)),
    );
    expect(quick).toEqual([null, 'ok']);
    const started = Date.now();
    let slowCalls = 0;
    const slow = await new Promise<unknown[]>((resolve) =>
      socket.timeout(50).emit('slow', (...args: unknown[]) => {
        slowCalls++;
        resolve(args);
      }),
    );
    expect(slow[0]).toBeInstanceOf(Error);
    expect((slow[0] as Error).message).toBe('operation has timed out');
    expect(Date.now() - started).toBeLessThan(250);
    // The late answer (at 300 ms) is ignored: the callback ran once.
    await sleep(350);
    expect(slowCalls).toBe(1);
  });

  it('ackTimeout applies to every emit with an ack', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('never', () => undefined));
    const socket = client(server.url, { ackTimeout: 80 });
    await expect(socket.emitWithAck('never')).rejects.toThrow('operation has timed out');
  });

  it('fails pending acks that take an error when the connection drops', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('hang', () => s.conn.close()));
    const socket = client(server.url);
    await next(socket, 'connect');
    await expect(socket.emitWithAck('hang')).rejects.toThrow('socket has been disconnected');
  });
});

describe('emitting', () => {
  it('drops volatile emits while disconnected and sends them while connected', async () => {
    const server = await startServer();
    const got: string[] = [];
    server.io.on('connection', (s) => s.on('v', (x: string) => got.push(x)));
    const socket = client(server.url, { autoConnect: false, transports: ['websocket'] });
    socket.volatile.emit('v', 'while-disconnected');
    socket.emit('v', 'buffered');
    socket.connect();
    await next(socket, 'connect');
    await sleep(50); // let the buffered packet and the first poll settle
    socket.volatile.emit('v', 'while-connected');
    await until(() => got.includes('while-connected'));
    expect(got).toEqual(['buffered', 'while-connected']);
  });

  it('throws on reserved event names', async () => {
    const socket = client('http://127.0.0.1:9', { autoConnect: false });
    for (const name of ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']) {
      expect(() => socket.emit(name)).toThrow(`"${name}" is a reserved event name`);
    }
  });

  it('calls onAny/prependAny for incoming and onAnyOutgoing/prependAnyOutgoing for outgoing events', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => {
      s.emit('one', 1);
      s.on('reply', () => s.emit('two', 2));
    });
    const socket = client(server.url);
    const incoming: unknown[][] = [];
    const outgoing: unknown[][] = [];
    const order: string[] = [];
    const anyListener = (...args: unknown[]): void => {
      incoming.push(args);
      order.push('any');
    };
    socket.onAny(anyListener);
    socket.prependAny(() => order.push('prepended'));
    socket.onAnyOutgoing((...args: unknown[]) => outgoing.push(args));
    socket.prependAnyOutgoing(() => order.push('out-prepended'));
    await next(socket, 'one');
    socket.emit('reply', 'x');
    await next(socket, 'two');
    expect(incoming).toEqual([['one', 1], ['two', 2]]);
    expect(outgoing).toEqual([['reply', 'x']]);
    expect(order).toEqual(['prepended', 'any', 'out-prepended', 'prepended', 'any']);
    expect(socket.listenersAny()).toHaveLength(2);
    socket.offAny(anyListener);
    expect(socket.listenersAny()).toHaveLength(1);
    socket.offAny();
    socket.offAnyOutgoing();
    expect(socket.listenersAny()).toHaveLength(0);
    expect(socket.listenersAnyOutgoing()).toHaveLength(0);
  });
});

describe('disconnection', () => {
  it('reports "io server disconnect" and does not reconnect on its own', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => s.on('kick-me', () => s.disconnect()));
    const socket = client(server.url);
    await next(socket, 'connect');
    socket.emit('kick-me');
    const [reason] = await next<[string]>(socket, 'disconnect');
    expect(reason).toBe('io server disconnect');
    expect(socket.active).toBe(false);
    await sleep(200);
    expect(socket.connected).toBe(false);
  });

  it('reports "io client disconnect" and the server sees "client namespace disconnect"', async () => {
    const server = await startServer();
    const socket = client(server.url);
    const [serverSocket] = await next<[ServerSocket]>(server.io, 'connection');
    await next(socket, 'connect');
    const serverReason = next<[string]>(serverSocket, 'disconnect');
    const clientReason = next<[string]>(socket, 'disconnect');
    socket.disconnect();
    expect((await clientReason)[0]).toBe('io client disconnect');
    expect((await serverReason)[0]).toBe('client namespace disconnect');
    expect(socket.connected).toBe(false);
    expect(socket.disconnected).toBe(true);
    expect(socket.id).toBeUndefined();
  });
});
