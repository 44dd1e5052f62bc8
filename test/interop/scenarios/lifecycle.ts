// Disconnections, reconnection, connection state recovery, limits and scale.
import assert from 'node:assert/strict';
import { connected, next, nextConnection, sleep, until, type ClientSocket, type Scenario } from './harness.js';

export const lifecycleScenarios: Scenario[] = [
  {
    name: 'server-side socket.disconnect() ends the namespace with the right reasons, no reconnection',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      const socket = await connected(client(url, { reconnectionDelay: 50 }));
      const server = await serverSide;
      const reasons = Promise.all([next(server, 'disconnect'), next(socket, 'disconnect')]);
      server.disconnect();
      const [[serverReason], [clientReason]] = await reasons;
      assert.equal(serverReason, 'server namespace disconnect');
      assert.equal(clientReason, 'io server disconnect');
      await sleep(200);
      assert.equal(socket.connected, false);
      assert.equal(io.sockets.sockets.size, 0);
    },
  },
  ...(['websocket', 'polling'] as const).map(
    (transport): Scenario => ({
      name: `server-side socket.disconnect(true) also closes the Engine.IO connection (${transport})`,
      async run({ startServer, client }) {
        const { io, url } = await startServer();
        const serverSide = nextConnection(io);
        const socket = await connected(client(url, { transports: [transport] }));
        const server = await serverSide;
        const connClosed = next(server.conn, 'close');
        const clientReason = next(socket, 'disconnect');
        server.disconnect(true);
        // The client must read the DISCONNECT before the connection ends, or it reports "transport close".
        assert.equal((await clientReason)[0], 'io server disconnect');
        await connClosed;
        await until(() => io.engine.clientsCount === 0, 2000, 'engine session closed');
      },
    }),
  ),
  {
    name: 'client-side disconnect() is reported as "client namespace disconnect"',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      const socket = await connected(client(url));
      const server = await serverSide;
      const reason = next(server, 'disconnect');
      const disconnecting = next(server, 'disconnecting');
      socket.disconnect();
      assert.deepEqual(await disconnecting, ['client namespace disconnect', undefined]);
      assert.equal((await reason)[0], 'client namespace disconnect');
    },
  },
  {
    name: 'reconnects after the transport drops',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const first = nextConnection(io);
      const socket = await connected(client(url, { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 }));
      const server = await first;
      const serverReason = next(server, 'disconnect');
      const clientReason = next(socket, 'disconnect');
      const second = nextConnection(io);
      server.conn.close();
      assert.equal((await serverReason)[0], 'forced close');
      assert.equal((await clientReason)[0], 'transport close');
      const again = await second;
      await until(() => socket.connected, 3000, 'client reconnected');
      assert.equal(again.id, socket.id);
      assert.ok(!socket.recovered);
    },
  },
  {
    name: 'recovers the connection state: same id, rooms, data, and the missed events',
    async run({ startServer, client }) {
      const { io, url } = await startServer({ connectionStateRecovery: {} });
      const first = nextConnection(io);
      const socket = await connected(client(url, { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 }));
      const server = await first;
      server.join('site:1');
      server.data.seen = 1;
      const received: number[] = [];
      socket.on('tick', (n: number) => received.push(n));
      io.to('site:1').emit('tick', 0);
      await until(() => received.length === 1, 2000, 'first tick');
      const gone = next(server, 'disconnect');
      server.conn.close();
      await gone;
      // Sent while the client is away.
      io.to('site:1').emit('tick', 1);
      io.emit('tick', 2);
      io.to('elsewhere').emit('tick', 99);
      const back = await nextConnection(io);
      await until(() => socket.connected, 3000, 'client reconnected');
      assert.equal(socket.recovered, true);
      assert.equal(back.recovered, true);
      assert.equal(back.id, server.id);
      assert.ok(back.rooms.has('site:1'));
      assert.deepEqual(back.data, { seen: 1 });
      await until(() => received.length === 3, 2000, 'missed ticks');
      assert.deepEqual(received, [0, 1, 2]);
    },
  },
  {
    name: 'does not recover a session the client ended itself',
    async run({ startServer, client }) {
      const { io, url } = await startServer({ connectionStateRecovery: {} });
      const first = nextConnection(io);
      const socket = await connected(client(url));
      const server = await first;
      const got = next(socket, 'hello');
      io.emit('hello');
      await got;
      socket.disconnect();
      await next(server, 'disconnect');
      const second = nextConnection(io);
      socket.connect();
      const again = await second;
      await until(() => socket.connected, 2000, 'connected again');
      assert.equal(again.recovered, false);
      assert.notEqual(again.id, server.id);
    },
  },
  {
    name: 'closes a client whose payload exceeds maxHttpBufferSize, others unaffected',
    async run({ startServer, client }) {
      const { io, url } = await startServer({ maxHttpBufferSize: 10_000 });
      const bystander = await connected(client(url, { transports: ['websocket'] }));
      const big = await connected(client(url, { transports: ['websocket'], reconnection: false }));
      const bigServer = [...io.sockets.sockets.values()].find((s: any) => s.id === big.id);
      const reason = next(bigServer, 'disconnect');
      big.emit('huge', 'x'.repeat(20_000));
      assert.match((await reason)[0], /transport (close|error)|parse error|forced close/);
      await until(() => !big.connected, 2000, 'client closed');
      io.sockets.sockets.forEach((s: any) => s.on('ping2', (ack: () => void) => ack()));
      await bystander.timeout(2000).emitWithAck('ping2');
    },
  },
  {
    name: 'delivers an exact broadcast count to 200 clients',
    timeout: 60_000,
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const total = 200;
      const rounds = 5;
      const clients: ClientSocket[] = [];
      const counts: number[] = new Array(total).fill(0);
      for (let i = 0; i < total; i++) {
        const c = client(url, { transports: ['websocket'], forceNew: true, reconnection: false });
        c.on('bcast', () => counts[i]!++);
        clients.push(c);
      }
      await Promise.all(clients.map((c) => connected(c, 20_000)));
      await until(() => io.sockets.sockets.size === total, 10_000, 'all sockets on the server');
      for (let r = 0; r < rounds; r++) io.emit('bcast', r);
      await until(() => counts.every((n) => n >= rounds), 20_000, 'every broadcast delivered');
      await sleep(100);
      assert.ok(counts.every((n) => n === rounds), `counts differ: ${[...new Set(counts)].join(',')}`);
    },
  },
];
