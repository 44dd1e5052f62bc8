// Chat rooms: join a room, talk to the others in it, leave it. Every request
// is answered through its acknowledgement with { code, msg, roomName }.
// Run: PORT=3000 node docs/examples/chat-rooms.js (after `npx tsc -b`).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Server } from '@sitehub/hub';

export async function start({ port = Number(process.env.PORT ?? 3000), host = process.env.HOST } = {}) {
  const httpServer = createServer();
  const io = new Server(httpServer);

  io.on('connection', (socket) => {
    socket.on('joinRoom', ({ roomName, user }, ack) => {
      socket.join(roomName);
      socket.data.user = user;
      socket.broadcast.to(roomName).emit('receiveMsg', { user: 'system', msg: `${user} joined`, roomName });
      ack({ code: 0, msg: `joined ${roomName}`, roomName });
    });

    socket.on('sendMsg', ({ roomName, msg }, ack) => {
      if (!socket.rooms.has(roomName)) return ack({ code: 1, msg: 'join the room first', roomName });
      socket.broadcast.to(roomName).emit('receiveMsg', { user: socket.data.user, msg, roomName });
      ack({ code: 0, msg, roomName });
    });

    socket.on('leaveRoom', ({ roomName }, ack) => {
      socket.leave(roomName);
      socket.broadcast.to(roomName).emit('receiveMsg', { user: 'system', msg: `${socket.data.user} left`, roomName });
      ack({ code: 0, msg: `left ${roomName}`, roomName });
    });
  });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  return { io, httpServer, port: httpServer.address().port };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { port } = await start();
  console.log(`chat rooms on http://localhost:${port}`);
}
