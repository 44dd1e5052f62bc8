// A custom namespace with its own connection handler. Clients reach it with
// io('http://host/my-namespace'); emits on `nsp` reach only its sockets.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const httpServer = createServer();
  const io = new Server(httpServer);

  io.on('connection', (socket) => {
    socket.emit('hi', 'main namespace');
  });

  const nsp = io.of('/my-namespace');
  nsp.on('connection', (socket) => {
    socket.emit('hi', 'my-namespace');
    socket.on('shout', (text) => {
      nsp.emit('shouted', text);
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`custom namespace example on http://localhost:${port}/my-namespace`);
}
