#!/usr/bin/env node
// The `sitehub` command. Until the IoT services land it runs the Socket.IO
// core with embedded defaults: devices connect to `/devices/<class>`, every
// other namespace is refused, and /healthz answers for process supervisors.
import { createServer } from 'node:http';
import { Server } from './realtime/index.js';

const DEVICE_NAMESPACE = /^\/devices\/[a-z0-9-]{1,32}$/;

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`sitehub: PORT must be an integer from 0 to 65535, got "${process.env.PORT}"`);
  process.exit(2);
}

const httpServer = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, connections: io.engine.clientsCount }));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

const io = new Server(httpServer);
io.of(DEVICE_NAMESPACE).on('connection', (socket) => {
  console.log(`[sitehub] ${socket.nsp.name} connected: ${socket.id} (${socket.conn.transport.name})`);
  socket.on('disconnect', (reason: string) => console.log(`[sitehub] ${socket.nsp.name} ${socket.id} disconnected: ${reason}`));
});

httpServer.listen(port, host, () => {
  const address = httpServer.address();
  const shown = typeof address === 'object' && address ? address.port : port;
  console.log(`[sitehub] listening on http://localhost:${shown} (Socket.IO at /socket.io/, health at /healthz)`);
});

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`[sitehub] ${signal}: closing every session ("server shutting down")`);
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
