// Disconnecting clients from the server: socket.disconnect(true) also closes
// the underlying connection. The client sees the reason "io server disconnect"
// and does not reconnect by itself.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const httpServer = createServer();
  const io = new Server(httpServer);

  io.on('connection', (socket) => {
    if (socket.handshake.auth.banned) {
      socket.emit('bye', 'you are banned');
      socket.disconnect(true);
      return;
    }
    socket.on('logout', (ack) => {
      ack('goodbye');
      socket.disconnect(true);
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`disconnect example on http://localhost:${port}`);
}
