// Socket.IO next to an existing plain Node.js request handler: the handler
// keeps every route; /socket.io/ is served by the Socket.IO server.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const httpServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from http');
  });
  const io = new Server(httpServer, { cors: { origin: '*' } });

  io.on('connection', (socket) => {
    socket.on('ping', (ack) => ack('pong from http'));
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`http + Socket.IO on http://localhost:${port}`);
}
