// Broadcasting to every connected client: io.emit() and io.sockets.emit() are
// the same thing (io.sockets is the main namespace).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const httpServer = createServer();
  const io = new Server(httpServer);

  io.on('connection', (socket) => {
    // Everyone learns how many are online, the newcomer included.
    io.emit('online', io.engine.clientsCount);

    socket.on('announce', (text) => {
      io.sockets.emit('announcement', { from: socket.id, text });
    });

    socket.on('disconnect', () => {
      io.emit('online', io.engine.clientsCount);
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`broadcast example on http://localhost:${port}`);
}
