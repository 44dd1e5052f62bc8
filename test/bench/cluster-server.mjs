// Benchmark server for `cluster`: one node of a two-node cluster on one
// Redis, sitehub (createRedisAdapter) or socket.io 4.8.4
// (@socket.io/redis-adapter), same application code, same node-redis
// clients. Run by cluster.mjs; not meant to be run by hand.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { serveRequests, cpuSeconds } from './lib/child.mjs';

const impl = process.argv[2];
const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

let adapter;
let Server;
if (impl === 'sitehub') {
  const hub = await import('@sitehub/hub');
  Server = hub.Server;
  adapter = hub.createRedisAdapter(pub, sub);
} else {
  Server = (await import('socket.io')).Server;
  adapter = (await import('@socket.io/redis-adapter')).createAdapter(pub, sub);
}
const httpServer = createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false, adapter });
let seq = 0;

serveRequests({
  stats: () => ({ clients: io.engine.clientsCount, cpu: cpuSeconds() }),
  serverCount: async () => ({ count: await io.of('/').adapter.serverCount() }),
  burst: ({ count, payload }) => {
    for (let i = 0; i < count; i++) {
      // Epoch milliseconds with sub-millisecond precision, comparable across processes.
      io.emit('tick', { seq: seq++, t: performance.timeOrigin + performance.now(), payload });
    }
    return {};
  },
});

process.on('SIGTERM', async () => {
  await Promise.allSettled([pub.quit(), sub.quit()]);
  process.exit(0);
});
httpServer.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: httpServer.address().port }));
