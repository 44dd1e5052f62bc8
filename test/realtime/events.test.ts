// Events, acks and binary on the raw wire.
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from '@sitehub/hub';
import { cleanup, nextEvent, RawSocket, startServer, until } from './helpers.js';

afterEach(cleanup);

async function connectedPair(nsp = '/', opts = {}) {
  const server = await startServer(opts);
  if (nsp !== '/') server.io.of(nsp);
  const socket = await RawSocket.open(server.base);
  const { sid } = await socket.connectNsp(nsp);
  const s = server.io.of(nsp).sockets.get(sid)! as Socket;
  return { ...server, socket, s };
}

describe('events', () => {
  it('delivers client events to listeners, per namespace', async () => {
    const { socket, s } = await connectedPair('/admin');
    const got = nextEvent(s, 'hello');
    socket.send('42/admin,["hello",1,{"a":[true]}]');
    expect(await got).toEqual([1, { a: [true] }]);
  });

  it('encodes server events as compact JSON with the namespace', async () => {
    const { socket, s } = await connectedPair('/admin');
    s.emit('news', { x: 1 }, 'y', null);
    expect(await socket.next()).toBe('42/admin,["news",{"x":1},"y",null]');
    s.send('m');
    expect(await socket.next()).toBe('42/admin,["message","m"]');
  });

  it('sends a binary event as a header plus one binary frame per buffer', async () => {
    const { socket, s } = await connectedPair();
    s.emit('bin', { data: Buffer.from([1, 2]) }, [new Uint8Array([3])]);
    expect(await socket.next()).toBe('452-["bin",{"data":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]');
    expect([...((await socket.next()) as Buffer)]).toEqual([1, 2]);
    expect([...((await socket.next()) as Buffer)]).toEqual([3]);
  });

  it('reassembles a binary event from the client', async () => {
    const { socket, s } = await connectedPair();
    const got = nextEvent(s, 'up');
    socket.send('451-["up",{"file":{"_placeholder":true,"num":0}}]');
    socket.send(Buffer.from([7, 7, 7]));
    const [payload] = await got;
    expect([...payload.file]).toEqual([7, 7, 7]);
  });

  it('refuses reserved names on emit', async () => {
    const { io, s } = await connectedPair();
    for (const name of ['connect', 'connect_error', 'disconnect', 'disconnecting']) {
      expect(() => s.emit(name)).toThrow(/reserved/);
      expect(() => io.emit(name)).toThrow(/reserved/);
    }
  });
});

describe('acknowledgements', () => {
  it('answers a client ack id once, with the listener arguments', async () => {
    const { socket, s } = await connectedPair('/admin');
    s.on('sum', (a: number, b: number, ack: (...r: unknown[]) => void) => {
      ack(a + b, 'ok');
      ack('twice');
    });
    socket.send('42/admin,17["sum",2,3]');
    expect(await socket.next()).toBe('43/admin,17[5,"ok"]');
    await socket.nothingWithin(50);
  });

  it('numbers server acks per namespace from 0 and calls back with the ACK arguments', async () => {
    const { socket, s } = await connectedPair();
    const replies: unknown[] = [];
    s.emit('q1', (...args: unknown[]) => replies.push(args));
    s.emit('q2', (...args: unknown[]) => replies.push(args));
    expect(await socket.next()).toBe('420["q1"]');
    expect(await socket.next()).toBe('421["q2"]');
    socket.send('431["b"]');
    socket.send('430["a",1]');
    await until(() => replies.length === 2);
    expect(replies).toEqual([['b'], ['a', 1]]);
  });

  it('takes a binary ack from the client', async () => {
    const { socket, s } = await connectedPair();
    const reply = s.emitWithAck('give');
    expect(await socket.next()).toBe('420["give"]');
    socket.send('461-0[{"_placeholder":true,"num":0}]');
    socket.send(Buffer.from([4, 2]));
    expect([...(await reply)]).toEqual([4, 2]);
  });

  it('times out an unanswered ack and ignores a late answer', async () => {
    const { io, socket, s } = await connectedPair();
    const result = new Promise<unknown[]>((resolve) => s.timeout(50).emit('slow', (...a: unknown[]) => resolve(a)));
    expect(await socket.next()).toBe('420["slow"]');
    const [err] = await result;
    expect((err as Error).message).toBe('operation has timed out');
    socket.send('430["late"]');
    await until(() => io.metrics.unknownAcks === 1);
    await expect(s.timeout(30).emitWithAck('slower')).rejects.toThrow('operation has timed out');
  });

  it('resolves emitWithAck with a timeout as (null, value)', async () => {
    const { socket, s } = await connectedPair();
    const reply = s.timeout(1000).emitWithAck('q');
    expect(await socket.next()).toBe('420["q"]');
    socket.send('430["v"]');
    expect(await reply).toBe('v');
  });

  it('ignores an ACK whose id matches nothing, and keeps the connection', async () => {
    const { io, socket, s } = await connectedPair();
    socket.send('43999["forged"]');
    await until(() => io.metrics.unknownAcks === 1);
    s.emit('still');
    expect(await socket.next()).toBe('42["still"]');
  });
});

describe('listeners of everything and per-packet middlewares', () => {
  it('calls onAny/prependAny in order, offAny removes', async () => {
    const { socket, s } = await connectedPair();
    const seen: string[] = [];
    const first = (ev: string) => seen.push(`first:${ev}`);
    s.onAny((ev: string, n: number) => seen.push(`any:${ev}:${n}`));
    s.prependAny(first);
    socket.send('42["a",1]');
    await until(() => seen.length === 2);
    s.offAny(first);
    socket.send('42["b",2]');
    await until(() => seen.length === 3);
    expect(seen).toEqual(['first:a', 'any:a:1', 'any:b:2']);
    expect(s.listenersAny()).toHaveLength(1);
    s.offAny();
    expect(s.listenersAny()).toHaveLength(0);
  });

  it('calls onAnyOutgoing/prependAnyOutgoing for emitted events', async () => {
    const { socket, s } = await connectedPair();
    const seen: unknown[][] = [];
    s.onAnyOutgoing((...args: unknown[]) => seen.push(['any', ...args]));
    s.prependAnyOutgoing((...args: unknown[]) => seen.push(['first', ...args]));
    s.emit('out', 1);
    await socket.next();
    s.offAnyOutgoing();
    s.emit('out', 2);
    await socket.next();
    expect(seen).toEqual([
      ['first', 'out', 1],
      ['any', 'out', 1],
    ]);
  });

  it('lets a socket.use() middleware rewrite or stop an event; the error goes to the socket', async () => {
    const { socket, s } = await connectedPair();
    s.use((event, next) => {
      if (event[0] === 'blocked') return next(new Error('blocked here'));
      event[1] = 'rewritten';
      next();
    });
    const errors: string[] = [];
    s.on('error', (err: Error) => errors.push(err.message));
    const got = nextEvent(s, 'ok');
    socket.send('42["blocked"]');
    socket.send('42["ok","original"]');
    expect(await got).toEqual(['rewritten']);
    expect(errors).toEqual(['blocked here']);
  });

  it('counts a middleware error nobody listens to instead of throwing', async () => {
    const { io, socket, s } = await connectedPair();
    s.use((_event, next) => next(new Error('no')));
    socket.send('42["x"]');
    await until(() => io.metrics.unhandledErrorEvents === 1);
    expect(s.connected).toBe(true);
  });
});

describe('emit modifiers', () => {
  it('compress(false) delivers; volatile delivers on an idle WebSocket and is dropped while a frame is in flight', async () => {
    const { socket, s } = await connectedPair();
    s.compress(false).emit('a');
    // 'a' is still being written: as in socket.io, the volatile packet is dropped.
    s.volatile.emit('dropped');
    expect(await socket.next()).toBe('42["a"]');
    s.volatile.emit('b');
    expect(await socket.next()).toBe('42["b"]');
    s.emit('c');
    expect(await socket.next()).toBe('42["c"]');
  });

  it('a modifier applies to one emit only', async () => {
    const { socket, s } = await connectedPair();
    const calls: unknown[][] = [];
    s.timeout(10).emit('first', () => {});
    s.emit('second', (...args: unknown[]) => calls.push(args));
    expect(await socket.next()).toBe('420["first"]');
    expect(await socket.next()).toBe('421["second"]');
    // Had the timeout leaked onto "second", its callback would get an Error by now.
    await new Promise((r) => setTimeout(r, 40));
    expect(calls).toEqual([]);
    socket.send('431["fine"]');
    await until(() => calls.length === 1);
    expect(calls).toEqual([['fine']]);
  });
});
