// Rooms and broadcasts through the adapter, observed on the raw wire.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Adapter, type Namespace, type Socket } from '@sitehub/hub';
import { cleanup, RawSocket, startServer, until } from './helpers.js';

afterEach(cleanup);

/** A server with `n` raw clients on `nsp`; `sockets[i]` is the server side of `clients[i]`. */
async function group(n: number, nsp = '/', opts = {}) {
  const server = await startServer(opts);
  server.io.of(nsp);
  const clients: RawSocket[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const client = await RawSocket.open(server.base);
    const { sid } = await client.connectNsp(nsp);
    clients.push(client);
    sockets.push(server.io.of(nsp).sockets.get(sid)!);
  }
  return { ...server, clients, sockets };
}

/** What each client received within `ms` (one entry per client, frames in order). */
async function received(clients: RawSocket[], ms = 80): Promise<string[][]> {
  return Promise.all(
    clients.map(async (c) => {
      const frames: string[] = [];
      for (;;) {
        const frame = await c.next(ms).catch(() => undefined);
        if (frame === undefined) return frames;
        frames.push(String(frame));
      }
    }),
  );
}

describe('broadcast', () => {
  it('encodes a broadcast once and sends the same prepared message to every recipient', async () => {
    const { io, clients } = await group(5);
    const prepare = vi.spyOn(io.engine, 'prepare');
    io.emit('tick', { n: 1 });
    expect(await received(clients)).toEqual(Array(5).fill(['42["tick",{"n":1}]']));
    expect(prepare).toHaveBeenCalledTimes(1);
    io.emit('bin', Buffer.from([1]));
    // Header and attachment: two prepared messages for all five recipients.
    expect(prepare).toHaveBeenCalledTimes(3);
    const frames = await received(clients);
    expect(frames[4]).toEqual(['451-["bin",{"_placeholder":true,"num":0}]', '\x01']);
  });

  it('targets rooms, unions them, excludes except rooms and the sender', async () => {
    const { io, clients, sockets } = await group(4);
    sockets[0]!.join(['a', 'b']);
    sockets[1]!.join('b');
    sockets[2]!.join(['a', 'x']);
    io.to('a').to('b').except('x').emit('m', 1);
    expect((await received(clients)).map((f) => f.length)).toEqual([1, 1, 0, 0]);
    sockets[0]!.to('b').emit('m', 2);
    expect((await received(clients)).map((f) => f.length)).toEqual([0, 1, 0, 0]);
    sockets[3]!.broadcast.emit('m', 3);
    expect((await received(clients)).map((f) => f.length)).toEqual([1, 1, 1, 0]);
    io.in(sockets[2]!.id).emit('m', 4);
    expect((await received(clients)).map((f) => f.length)).toEqual([0, 0, 1, 0]);
    io.local.emit('m', 5);
    expect((await received(clients)).map((f) => f.length)).toEqual([1, 1, 1, 1]);
  });

  it('broadcasts in a namespace only to that namespace', async () => {
    const { io, base, clients } = await group(2, '/admin');
    const other = await RawSocket.open(base);
    await other.connectNsp('/');
    io.of('/admin').emit('m');
    io.emit('main-only');
    expect(await received(clients)).toEqual([['42/admin,["m"]'], ['42/admin,["m"]']]);
    expect(await other.next()).toBe('42["main-only"]');
    await other.nothingWithin(30);
  });

  it('collects acks of a broadcast: one shared ack id, replies in an array', async () => {
    const { io, clients } = await group(3);
    const done = io.timeout(1000).emitWithAck('count');
    for (const [i, c] of clients.entries()) {
      expect(await c.next()).toBe('420["count"]');
      c.send(`430[${i}]`);
    }
    expect((await done).sort()).toEqual([0, 1, 2]);
  });

  it('reports a broadcast ack timeout with the replies that did come', async () => {
    const { io, clients } = await group(2);
    const result = new Promise<unknown[]>((resolve) => io.timeout(80).emit('q', (...args: unknown[]) => resolve(args)));
    await clients[0]!.next();
    clients[0]!.send('430["yes"]');
    const [err, replies] = await result;
    expect((err as Error).message).toBe('operation has timed out');
    expect(replies).toEqual(['yes']);
    await expect(io.timeout(30).emitWithAck('q')).rejects.toMatchObject({ responses: [] });
  });

  it('completes a broadcast with ack at once when nobody is targeted', async () => {
    const { io } = await group(1);
    expect(await io.to('empty-room').timeout(1000).emitWithAck('q')).toEqual([]);
  });
});

describe('socket selection', () => {
  it('fetchSockets returns snapshots with handshake, rooms, data and working actions', async () => {
    const { io, clients, sockets } = await group(2);
    sockets[1]!.join('ops');
    sockets[1]!.data = { role: 'ops' };
    const [remote, ...rest] = await io.in('ops').fetchSockets();
    expect(rest).toHaveLength(0);
    expect(remote!.id).toBe(sockets[1]!.id);
    expect(remote!.data).toEqual({ role: 'ops' });
    expect([...remote!.rooms].sort()).toEqual(['ops', sockets[1]!.id].sort());
    expect(remote!.handshake.address).toBe('127.0.0.1');
    const reply = remote!.timeout(1000).emitWithAck('who');
    expect(await clients[1]!.next()).toBe('420["who"]');
    clients[1]!.send('430["me"]');
    expect(await reply).toBe('me');
    remote!.join('more');
    expect(sockets[1]!.rooms.has('more')).toBe(true);
    remote!.leave('more');
    expect(sockets[1]!.rooms.has('more')).toBe(false);
    remote!.disconnect();
    expect(await clients[1]!.next()).toBe('41');
    expect((await io.fetchSockets()).map((s) => s.id)).toEqual([sockets[0]!.id]);
  });

  it('socketsJoin, socketsLeave, allSockets and disconnectSockets(true)', async () => {
    const { io, clients, sockets } = await group(3);
    io.except(sockets[0]!.id).socketsJoin(['x', 'y']);
    expect([...(await io.in('x').allSockets())].sort()).toEqual([sockets[1]!.id, sockets[2]!.id].sort());
    io.in('x').socketsLeave('y');
    expect(io.sockets.adapter.rooms.has('y')).toBe(false);
    io.in('x').disconnectSockets(true);
    await clients[1]!.closedWithin();
    await clients[2]!.closedWithin();
    expect(clients[0]!.isClosed).toBe(false);
    await until(() => io.engine.clientsCount === 1);
  });

  it('emits create-room, join-room, leave-room and delete-room on the adapter', async () => {
    const { io, sockets } = await group(1);
    const events: string[] = [];
    for (const ev of ['create-room', 'join-room', 'leave-room', 'delete-room']) {
      io.of('/').adapter.on(ev, (room: string) => events.push(`${ev}:${room}`));
    }
    sockets[0]!.join('r');
    sockets[0]!.leave('r');
    expect(events).toEqual(['create-room:r', 'join-room:r', 'leave-room:r', 'delete-room:r']);
  });

  it('broadcasts and selects through a parent namespace to its children', async () => {
    const server = await startServer();
    const parent = server.io.of(/^\/site-\d$/);
    const a = await RawSocket.open(server.base);
    await a.connectNsp('/site-1');
    const b = await RawSocket.open(server.base);
    await b.connectNsp('/site-2');
    parent.emit('all');
    expect(await a.next()).toBe('42/site-1,["all"]');
    expect(await b.next()).toBe('42/site-2,["all"]');
    expect(await parent.fetchSockets()).toHaveLength(2);
    parent.disconnectSockets();
    expect(await a.next()).toBe('41/site-1,');
    expect(await b.next()).toBe('41/site-2,');
  });
});

describe('server-side emit and custom adapters', () => {
  it('serverSideEmit validates its arguments and acks with no replies on a single server', async () => {
    const { io } = await startServer();
    expect(() => io.serverSideEmit('connection')).toThrow(/reserved/);
    expect(() => io.serverSideEmit(42 as never)).toThrow(TypeError);
    expect(io.serverSideEmit('sync', 1)).toBe(true);
    expect(await io.serverSideEmitWithAck('sync')).toEqual([]);
  });

  it('builds each namespace adapter from the adapter option', async () => {
    const built: string[] = [];
    class RecordingAdapter extends Adapter {
      constructor(nsp: Namespace) {
        super(nsp);
        built.push(nsp.name);
      }
    }
    const { io, clients } = await group(1, '/', { adapter: RecordingAdapter });
    io.of('/other');
    expect(built).toEqual(['/', '/other']);
    expect(io.of('/').adapter).toBeInstanceOf(RecordingAdapter);
    io.emit('through-custom');
    expect(await clients[0]!.next()).toBe('42["through-custom"]');
  });
});
