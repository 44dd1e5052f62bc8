// The server speaks first: a custom event as soon as a client connects, then
// one every second until it leaves.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST, everyMs = 1000 } = {}) {
  const httpServer = createServer();
  const io = new Server(httpServer);

  io.on('connection', (socket) => {
    socket.emit('welcome', { id: socket.id, serverTime: Date.now() });

    const timer = setInterval(() => socket.emit('tick', Date.now()), everyMs);
    socket.on('disconnect', () => clearInterval(timer));
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`push example on http://localhost:${port}`);
}
