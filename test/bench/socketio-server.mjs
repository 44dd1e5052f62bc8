// Benchmark server: the same application code on socket.io's Server and on
// sitehub's Server (the import is the only difference). Run by
// socketio-broadcast.mjs; not meant to be run by hand.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { serveRequests, cpuSeconds, settledMemory } from './lib/child.mjs';

const impl = process.argv[2];
const { Server } = impl === 'sitehub' ? await import('@sitehub/hub') : await import('socket.io');

const httpServer = createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });
let seq = 0;

serveRequests({
  stats: () => ({ clients: io.engine.clientsCount, cpu: cpuSeconds() }),
  // Separate from `stats`: the GCs it runs must not count as broadcast CPU time.
  memory: async () => ({ clients: io.engine.clientsCount, ...(await settledMemory()) }),
  burst: ({ count, payload }) => {
    for (let i = 0; i < count; i++) {
      // Epoch milliseconds with sub-millisecond precision, comparable across processes.
      io.emit('tick', { seq: seq++, t: performance.timeOrigin + performance.now(), payload });
    }
    return {};
  },
});

process.on('SIGTERM', () => process.exit(0));
httpServer.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: httpServer.address().port }));
