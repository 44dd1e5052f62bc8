// Socket.IO with Express: give the Server the http.Server that wraps the app,
// not the app itself.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const app = express();
  const httpServer = createServer(app);
  const io = new Server(httpServer);

  app.get('/', (_req, res) => {
    res.send('hello from express');
  });

  io.on('connection', (socket) => {
    socket.on('ping', (ack) => ack('pong from express'));
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`express + Socket.IO on http://localhost:${port}`);
}
