// One node of a cluster: several of these processes, on one machine or many,
// share rooms, broadcasts, acks and fetchSockets() through one Redis.
// Run two (after `npx tsc -b`, with a Redis at REDIS_URL):
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3001 node docs/examples/cluster-node.js
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3002 node docs/examples/cluster-node.js
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { Server, createRedisAdapter } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST, redisUrl = process.env.REDIS_URL } = {}) {
  // Two connections: one publishes, the other is put in subscriber mode.
  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate();
  // node-redis reconnects by itself; without a listener an 'error' would end the process.
  pubClient.on('error', (err) => console.error('redis (pub):', err.message));
  subClient.on('error', (err) => console.error('redis (sub):', err.message));
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const httpServer = createServer();
  const io = new Server(httpServer, { adapter: createRedisAdapter(pubClient, subClient) });

  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      socket.join(room);
      ack('ok');
    });
    // Reaches the room's members on every node.
    socket.on('say', (room, text) => socket.to(room).emit('said', { room, text }));
    // Counts the room's members on every node.
    socket.on('who', async (room, ack) => {
      const sockets = await io.in(room).fetchSockets();
      ack({ count: sockets.length, missingNodes: sockets.missingNodes ?? [] });
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return {
    io,
    httpServer,
    port: httpServer.address().port,
    async close() {
      await io.close();
      await Promise.all([pubClient.quit(), subClient.quit()]);
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`cluster node on http://localhost:${port}`);
}
