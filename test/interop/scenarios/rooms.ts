// Rooms and broadcasts, seen by real clients.
import assert from 'node:assert/strict';
import { connected, next, sleep, until, type ClientSocket, type Scenario, type ScenarioContext } from './harness.js';

/** A server and `n` connected clients; `sockets[i]` is the server side of `clients[i]`. */
async function group(ctx: ScenarioContext, n: number, serverOpts?: Record<string, unknown>) {
  const handle = await ctx.startServer(serverOpts);
  const byId = new Map<string, any>();
  handle.io.on('connection', (s: any) => byId.set(s.id, s));
  const clients: ClientSocket[] = [];
  for (let i = 0; i < n; i++) clients.push(await connected(ctx.client(handle.url, { transports: ['websocket'] })));
  await until(() => byId.size === n, 2000, 'server-side connections');
  return { ...handle, clients, sockets: clients.map((c) => byId.get(c.id!)) };
}

/** Counts 'ev' on each client for `ms` after `act()`. */
async function countReceived(clients: ClientSocket[], ev: string, act: () => void, ms = 150): Promise<number[]> {
  const counts = clients.map(() => 0);
  const listeners = clients.map((c, i) => {
    const fn = () => counts[i]!++;
    c.on(ev, fn);
    return fn;
  });
  act();
  await sleep(ms);
  clients.forEach((c, i) => c.off(ev, listeners[i]));
  return counts;
}

export const roomScenarios: Scenario[] = [
  {
    name: 'io.emit and io.sockets.emit reach every client',
    async run(ctx) {
      const { io, clients } = await group(ctx, 3);
      assert.deepEqual(await countReceived(clients, 'all', () => io.emit('all', 1)), [1, 1, 1]);
      assert.deepEqual(await countReceived(clients, 'all', () => io.sockets.emit('all', 2)), [1, 1, 1]);
    },
  },
  {
    name: 'io.to(room) reaches only the members of the room',
    async run(ctx) {
      const { io, clients, sockets } = await group(ctx, 3);
      sockets[0].join('blue');
      sockets[1].join(['blue', 'green']);
      assert.deepEqual(await countReceived(clients, 'm', () => io.to('blue').emit('m')), [1, 1, 0]);
      // A socket in several targeted rooms gets the packet once.
      assert.deepEqual(await countReceived(clients, 'm', () => io.to('blue').to('green').emit('m')), [1, 1, 0]);
    },
  },
  {
    name: 'io.except(room) skips the members of the room',
    async run(ctx) {
      const { io, clients, sockets } = await group(ctx, 3);
      sockets[2].join('quiet');
      assert.deepEqual(await countReceived(clients, 'm', () => io.except('quiet').emit('m')), [1, 1, 0]);
    },
  },
  {
    name: 'socket.broadcast and socket.to(room) exclude the sender',
    async run(ctx) {
      const { clients, sockets } = await group(ctx, 3);
      for (const s of sockets) s.join('all-of-us');
      assert.deepEqual(await countReceived(clients, 'm', () => sockets[0].broadcast.emit('m')), [0, 1, 1]);
      assert.deepEqual(await countReceived(clients, 'm', () => sockets[1].to('all-of-us').emit('m')), [1, 0, 1]);
    },
  },
  {
    name: 'a socket that leaves a room stops receiving its broadcasts',
    async run(ctx) {
      const { io, clients, sockets } = await group(ctx, 2);
      sockets[0].join('r');
      sockets[1].join('r');
      sockets[1].leave('r');
      assert.deepEqual(await countReceived(clients, 'm', () => io.to('r').emit('m')), [1, 0]);
      assert.deepEqual([...sockets[1].rooms], [sockets[1].id]);
    },
  },
  {
    name: 'collects broadcast acknowledgements with io.timeout().emit and emitWithAck',
    async run(ctx) {
      const { io, clients } = await group(ctx, 3);
      clients.forEach((c, i) => c.on('count', (ack: (n: number) => void) => ack(i)));
      const replies = await io.timeout(2000).emitWithAck('count');
      assert.deepEqual([...replies].sort(), [0, 1, 2]);
      // One silent client: the callback gets an error and the replies that did arrive.
      clients[2]!.off('count');
      clients[2]!.on('count', () => {});
      const [err, partial] = await new Promise<any[]>((resolve) => io.timeout(200).emit('count', (...a: any[]) => resolve(a)));
      assert.ok(err instanceof Error);
      assert.deepEqual([...partial].sort(), [0, 1]);
    },
  },
  {
    name: 'fetchSockets exposes ids, rooms and data, and can act on the remote sockets',
    async run(ctx) {
      const { io, clients, sockets } = await group(ctx, 2);
      sockets[0].data.role = 'admin';
      sockets[0].join('ops');
      const found = await io.in('ops').fetchSockets();
      assert.equal(found.length, 1);
      assert.equal(found[0].id, clients[0]!.id);
      assert.deepEqual(found[0].data, { role: 'admin' });
      assert.ok(found[0].rooms.has('ops'));
      const got = next(clients[0]!, 'direct');
      found[0].emit('direct', 'hi');
      assert.deepEqual(await got, ['hi']);
    },
  },
  {
    name: 'socketsJoin, socketsLeave and disconnectSockets act on a selection',
    async run(ctx) {
      const { io, clients, sockets } = await group(ctx, 3);
      sockets[0].join('a');
      io.in('a').socketsJoin('b');
      assert.ok(sockets[0].rooms.has('b'));
      io.socketsLeave('a');
      assert.equal(sockets[0].rooms.has('a'), false);
      const gone = next(clients[1]!, 'disconnect');
      io.in(clients[1]!.id).disconnectSockets();
      assert.equal((await gone)[0], 'io server disconnect');
      assert.equal(clients[0]!.connected, true);
      assert.equal(clients[2]!.connected, true);
    },
  },
  {
    name: 'drops volatile packets while the transport is busy, never regular ones',
    async run(ctx) {
      const handle = await ctx.startServer();
      const serverSide = new Promise<any>((resolve) => handle.io.once('connection', resolve));
      const socket = await connected(ctx.client(handle.url, { transports: ['polling'] }));
      const server = await serverSide;
      let volatileCount = 0;
      let regularCount = 0;
      socket.on('v', () => volatileCount++);
      socket.on('r', () => regularCount++);
      await sleep(50);
      for (let i = 0; i < 50; i++) {
        server.volatile.emit('v', i);
        server.emit('r', i);
      }
      await until(() => regularCount === 50, 3000, 'all regular packets');
      await sleep(50);
      assert.ok(volatileCount < 50, `volatile packets all delivered (${volatileCount})`);
    },
  },
];
