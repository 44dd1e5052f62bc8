// One cluster node in its own process, driven by its parent over IPC:
// `node node.mjs sitehub|socketio` with REDIS_URL set. A sitehub node runs
// our Server with createRedisAdapter; a socket.io node runs socket.io 4.8.4
// with @socket.io/redis-adapter. Both answer the same commands, so a test
// can ask any node of a mixed cluster to broadcast, fetch, join...
import { createServer } from 'node:http';
import { createClient } from 'redis';

const kind = process.argv[2];
const name = process.argv[3] ?? kind;
const redisUrl = process.env.REDIS_URL;
const heartbeatInterval = Number(process.env.HEARTBEAT_MS ?? 500);

// Never give up reconnecting, quickly: the fault tests restart Redis.
const clientOpts = { url: redisUrl, socket: { reconnectStrategy: (n) => Math.min(50 * (n + 1), 500) } };
const pub = createClient(clientOpts);
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', () => {});
await Promise.all([pub.connect(), sub.connect()]);

let io;
let factory;
const httpServer = createServer((req, res) => {
  // A readiness answer for the fault tests: the adapter's link, as /readyz reports it.
  if (req.url === '/readyz' && factory) {
    const health = factory.health();
    res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(health));
  }
  if (!res.headersSent && !req.url.startsWith('/socket.io')) {
    res.writeHead(404);
    res.end();
  }
});
if (kind === 'sitehub') {
  const { Server, createRedisAdapter } = await import('@sitehub/hub');
  factory = createRedisAdapter(pub, sub, { heartbeatInterval, requestsTimeout: Number(process.env.REQUESTS_TIMEOUT_MS ?? 5000) });
  io = new Server(httpServer, { adapter: factory, transports: ['websocket'] });
} else {
  const { Server } = await import('socket.io');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  io = new Server(httpServer, { adapter: createAdapter(pub, sub), transports: ['websocket'] });
}

const serverSide = [];
let stream;
let streamSent = () => 0;
io.on('hello', (...args) => {
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    args.pop();
    last(`${name}:${args[0]}`);
  }
  serverSide.push(args);
});
io.on('connection', (socket) => {
  const { rooms = [], label } = socket.handshake.auth ?? {};
  socket.data = { label, node: name };
  socket.join(rooms);
});

const commands = {
  async broadcast({ rooms = [], except = [], event, args = [], binary = false }) {
    // IPC carries JSON: binary arguments are made here.
    io.to(rooms).except(except).emit(event, ...args, ...(binary ? [Buffer.from([1, 2, 3])] : []));
  },
  async broadcastAck({ rooms = [], timeout = 3000 }) {
    return new Promise((resolve) => {
      io.to(rooms).timeout(timeout).emit('ask', name, (err, replies) => resolve({ err: err?.message ?? null, replies }));
    });
  },
  async fetch({ rooms = [] }) {
    const started = Date.now();
    const sockets = await io.in(rooms).fetchSockets();
    return {
      ms: Date.now() - started,
      sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data })),
      missingNodes: sockets.missingNodes ?? [],
    };
  },
  /** `count` broadcasts in one go, numbered, in turn to two rooms, to one room, to everyone but a room. */
  async burst({ event, count }) {
    for (let i = 0; i < count; i++) {
      if (i % 3 === 0) io.to(['a', 'b']).emit(event, i);
      else if (i % 3 === 1) io.to('even').emit(event, i);
      else io.except('a').emit(event, i);
    }
  },
  async allRooms() {
    return [...(await io.of('/').adapter.allRooms())];
  },
  async allSockets({ rooms = [] }) {
    return [...(await io.in(rooms).allSockets())];
  },
  async remoteEmit({ label, event }) {
    const sockets = await io.fetchSockets();
    const target = sockets.find((s) => s.data?.label === label);
    target?.emit(event, name);
    return Boolean(target);
  },
  async serverSideEmit({ args }) {
    io.serverSideEmit('hello', ...args);
  },
  async serverSideEmitAck({ args }) {
    try {
      return { replies: await io.serverSideEmitWithAck('hello', ...args) };
    } catch (err) {
      return { err: err.message, replies: err.responses ?? null };
    }
  },
  async received() {
    return serverSide.splice(0);
  },
  async join({ target, rooms }) {
    io.in(target).socketsJoin(rooms);
  },
  async leave({ target, rooms }) {
    io.in(target).socketsLeave(rooms);
  },
  async disconnect({ target }) {
    io.in(target).disconnectSockets(true);
  },
  /** Broadcasts `event` with 1, 2, 3... every `everyMs` until streamStop; returns nothing. */
  async streamStart({ event, everyMs = 20 }) {
    let n = 0;
    stream = setInterval(() => io.emit(event, ++n), everyMs);
    streamSent = () => n;
  },
  async streamStop() {
    clearInterval(stream);
    return streamSent();
  },
  async localCount() {
    return io.of('/').sockets.size;
  },
  async health() {
    return factory?.health() ?? null;
  },
  async serverCount() {
    return io.of('/').adapter.serverCount();
  },
};

process.on('message', async ({ id, cmd, args }) => {
  try {
    const result = await commands[cmd](args ?? {});
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: String(err?.stack ?? err) });
  }
});

httpServer.listen(0, '127.0.0.1', () => {
  process.send({ ready: true, port: httpServer.address().port, uid: factory?.uid ?? null });
});
