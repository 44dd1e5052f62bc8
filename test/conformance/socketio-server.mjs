// The server the official Socket.IO v5 conformance suite expects, on sitehub's
// Server (built: run `npx tsc -b` first). Usage:
//   node test/conformance/socketio-server.mjs [port]   (or PORT=…; default 3000)
import { createServer } from 'node:http';
import { Server } from '@sitehub/hub';

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  connectTimeout: 1000,
  cors: { origin: '*' },
});

// '/' and '/custom' exist; every other namespace is refused with "Invalid namespace".
for (const name of ['/', '/custom']) {
  io.of(name).on('connection', (socket) => {
    socket.emit('auth', socket.handshake.auth);
    socket.on('message', (...args) => socket.emit('message-back', ...args));
    socket.on('message-with-ack', (...args) => {
      const ack = args.pop();
      ack(...args);
    });
  });
}

httpServer.listen(port, () => console.log(`socket.io conformance server on http://localhost:${port}/socket.io/`));
process.on('SIGTERM', () => io.close().finally(() => process.exit(0)));
