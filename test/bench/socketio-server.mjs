// Benchmark server: the same application code on socket.io's Server and on
// sitehub's Server (the import is the only difference). Run by
// socketio-broadcast.mjs; not meant to be run by hand.
// argv: <socket.io|sitehub> [websocket|polling]
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { serveRequests, cpuSeconds, settledMemory } from './lib/child.mjs';

const impl = process.argv[2];
const transport = process.argv[3] ?? 'websocket';
const { Server } = impl === 'sitehub' ? await import('@sitehub/hub') : await import('socket.io');

const httpServer = createServer();
const io = new Server(httpServer, { transports: [transport], serveClient: false });
let seq = 0;
let events = 0;
// HTTP requests (polling), counted after the Server's own listener.
let requests = 0;
httpServer.on('request', () => requests++);

// The application: every event is counted and acked with its seq.
io.on('connection', (socket) => {
  socket.on('event', (data, ack) => {
    events++;
    if (typeof ack === 'function') ack(data?.seq ?? null);
  });
});

// Epoch milliseconds with sub-millisecond precision, comparable across processes.
const tick = (payload) => ({ seq: seq++, t: performance.timeOrigin + performance.now(), payload });

serveRequests({
  stats: () => ({ clients: io.engine.clientsCount, cpu: cpuSeconds(), events, requests }),
  // Separate from `stats`: the GCs it runs must not count as broadcast CPU time.
  memory: async () => ({ clients: io.engine.clientsCount, ...(await settledMemory()) }),
  burst: ({ count, payload }) => {
    for (let i = 0; i < count; i++) io.emit('tick', tick(payload));
    return {};
  },
  unicast: ({ count, payload }) => {
    for (let i = 0; i < count; i++) {
      for (const socket of io.of('/').sockets.values()) socket.emit('tick', tick(payload));
    }
    return {};
  },
});

process.on('SIGTERM', () => process.exit(0));
httpServer.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: httpServer.address().port }));
