// Transports, handshakes, namespaces and connection middlewares.
import assert from 'node:assert/strict';
import { connected, next, nextConnection, until, type ClientSocket, type Scenario } from './harness.js';

export const connectionScenarios: Scenario[] = [
  {
    name: 'connects with HTTP long-polling only',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      const socket = await connected(client(url, { transports: ['polling'] }));
      const server = await serverSide;
      assert.equal(socket.io.engine.transport.name, 'polling');
      assert.equal(server.conn.transport.name, 'polling');
      assert.equal(server.id, socket.id);
    },
  },
  {
    name: 'connects with WebSocket only',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      const socket = await connected(client(url, { transports: ['websocket'] }));
      const server = await serverSide;
      assert.equal(socket.io.engine.transport.name, 'websocket');
      assert.equal(server.conn.transport.name, 'websocket');
    },
  },
  {
    name: 'upgrades from polling to WebSocket and keeps working',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      const socket = await connected(client(url));
      const server = await serverSide;
      if (server.conn.transport.name !== 'websocket') await next(server.conn, 'upgrade');
      assert.equal(server.conn.transport.name, 'websocket');
      await until(() => socket.io.engine.transport.name === 'websocket', 4000, 'client upgrade');
      server.on('ping-me', (n: number, ack: (n: number) => void) => ack(n + 1));
      assert.equal(await socket.emitWithAck('ping-me', 41), 42);
    },
  },
  {
    name: 'gives a Socket.IO id distinct from the Engine.IO id',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      const socket = await connected(client(url));
      const server = await serverSide;
      assert.equal(typeof socket.id, 'string');
      assert.equal(server.id, socket.id);
      assert.notEqual(server.id, server.conn.id);
      assert.equal(socket.io.engine.id, server.conn.id);
    },
  },
  {
    name: 'multiplexes several namespaces over one connection',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const mainSide = nextConnection(io, '/');
      const adminSide = nextConnection(io, '/admin');
      const main = client(url);
      // A second namespace on the same Manager shares its Engine.IO connection.
      const admin: ClientSocket = main.io.socket('/admin');
      admin.connect();
      try {
        await Promise.all([connected(main), connected(admin)]);
        const [m, a] = await Promise.all([mainSide, adminSide]);
        assert.equal(m.conn.id, a.conn.id);
        m.on('where', (ack: (s: string) => void) => ack('main'));
        a.on('where', (ack: (s: string) => void) => ack('admin'));
        assert.deepEqual(await Promise.all([main.emitWithAck('where'), admin.emitWithAck('where')]), ['main', 'admin']);
      } finally {
        admin.disconnect();
      }
    },
  },
  {
    name: 'passes the auth payload and the query to socket.handshake',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const serverSide = nextConnection(io);
      await connected(client(url, { auth: { token: 'abc', n: 1 }, query: { site: 'north' } }));
      const server = await serverSide;
      assert.deepEqual(server.handshake.auth, { token: 'abc', n: 1 });
      assert.equal(server.handshake.query.site, 'north');
      assert.equal(typeof server.handshake.headers, 'object');
      assert.equal(typeof server.handshake.issued, 'number');
      assert.equal(server.handshake.secure, false);
    },
  },
  {
    name: 'refuses a middleware error with its message and data in connect_error',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      io.use((socket: any, nextFn: (err?: Error) => void) => {
        if (socket.handshake.auth.token === 'good') return nextFn();
        const err: Error & { data?: unknown } = new Error('not authorized');
        err.data = { code: 401, hint: 'token' };
        nextFn(err);
      });
      const socket = client(url, { auth: { token: 'bad' } });
      const [err] = await next(socket, 'connect_error');
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401, hint: 'token' });
      assert.equal(socket.connected, false);
      // A retry with better credentials goes through the same middleware.
      socket.auth = { token: 'good' };
      socket.connect();
      await connected(socket);
    },
  },
  {
    name: 'lets middlewares of a custom namespace set socket.data',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const nsp = io.of('/orders');
      nsp.use((socket: any, nextFn: () => void) => {
        socket.data.user = socket.handshake.auth.user;
        nextFn();
      });
      const serverSide = nextConnection(io, '/orders');
      await connected(client(`${url}/orders`, { auth: { user: 'ada' } }));
      assert.equal((await serverSide).data.user, 'ada');
    },
  },
  {
    name: 'refuses an unknown namespace with "Invalid namespace"',
    async run({ startServer, client }) {
      const { url } = await startServer();
      const [err] = await next(client(`${url}/nowhere`), 'connect_error');
      assert.equal(err.message, 'Invalid namespace');
    },
  },
  {
    name: 'creates dynamic namespaces from a RegExp and broadcasts through the parent',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      const parent = io.of(/^\/room-\d+$/);
      const seen: string[] = [];
      parent.on('connection', (socket: any) => seen.push(socket.nsp.name));
      const a = await connected(client(`${url}/room-1`));
      const b = await connected(client(`${url}/room-2`));
      assert.deepEqual(seen.sort(), ['/room-1', '/room-2']);
      const got = Promise.all([next(a, 'news'), next(b, 'news')]);
      parent.emit('news', 'hello');
      assert.deepEqual(await got, [['hello'], ['hello']]);
      const [err] = await next(client(`${url}/room-x`), 'connect_error');
      assert.equal(err.message, 'Invalid namespace');
    },
  },
  {
    name: 'creates dynamic namespaces from a function that sees the auth payload',
    async run({ startServer, client }) {
      const { io, url } = await startServer();
      io.of((name: string, auth: any, nextFn: (err: Error | null, ok: boolean) => void) =>
        nextFn(null, name.startsWith('/tenant-') && auth.key === 'k'),
      );
      await connected(client(`${url}/tenant-7`, { auth: { key: 'k' } }));
      assert.ok(io._nsps.has('/tenant-7'));
      const [err] = await next(client(`${url}/tenant-8`, { auth: { key: 'wrong' } }), 'connect_error');
      assert.equal(err.message, 'Invalid namespace');
    },
  },
];
