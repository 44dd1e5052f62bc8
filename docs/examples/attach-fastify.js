// Socket.IO with fastify: attach to fastify's own http.Server (app.server).
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const app = Fastify();
  app.get('/', async () => 'hello from fastify');

  const io = new Server(app.server);
  io.on('connection', (socket) => {
    socket.on('ping', (ack) => ack('pong from fastify'));
  });
  // Close the Socket.IO sessions before fastify closes its server, which
  // would otherwise wait for those connections to end.
  app.addHook('preClose', async () => {
    await io.close();
  });

  await app.listen({ port, host: host ?? 'localhost' });
  return { io, app, httpServer: app.server, port: app.server.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`fastify + Socket.IO on http://localhost:${port}`);
}
