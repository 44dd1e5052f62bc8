// Socket.IO with Koa: the http.Server runs app.callback().
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import Koa from 'koa';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'hello from koa';
  });
  const httpServer = createServer(app.callback());
  const io = new Server(httpServer);

  io.on('connection', (socket) => {
    socket.on('ping', (ack) => ack('pong from koa'));
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`koa + Socket.IO on http://localhost:${port}`);
}
