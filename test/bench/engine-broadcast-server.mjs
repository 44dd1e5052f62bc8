// Benchmark server: an Engine.IO server (sitehub's EngineServer or the
// engine.io package) whose every session receives the broadcasts the parent
// process asks for. Run by engine-broadcast.mjs; not meant to be run by hand.
import { createServer } from 'node:http';
import { serveRequests, cpuSeconds, settledMemory } from './lib/child.mjs';

const impl = process.argv[2];
const httpServer = createServer();
const sockets = new Set();
let broadcast;

if (impl === 'sitehub') {
  const { EngineServer } = await import('@sitehub/hub');
  const engine = new EngineServer({ transports: ['websocket'] });
  engine.attach(httpServer);
  engine.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  broadcast = (data, mode) => {
    if (mode === 'prepared') {
      const prepared = engine.prepare(data);
      for (const socket of sockets) socket.sendPrepared(prepared);
    } else {
      for (const socket of sockets) socket.send(data);
    }
  };
} else if (impl === 'engine.io') {
  const { Server } = await import('engine.io');
  const { Sender } = (await import('ws')).default;
  const engine = new Server({ transports: ['websocket'] });
  engine.attach(httpServer);
  engine.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  broadcast = (data, mode) => {
    if (mode === 'prepared') {
      // What socket.io does for a broadcast: one pre-built WebSocket frame,
      // handed to every session through the wsPreEncodedFrame option.
      const frame = Sender.frame(Buffer.from('4' + data), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
      for (const socket of sockets) socket.send(data, { wsPreEncodedFrame: frame });
    } else {
      for (const socket of sockets) socket.send(data);
    }
  };
} else {
  console.error(`unknown implementation ${impl}`);
  process.exit(2);
}

serveRequests({
  // The CPU time is read before the GCs that settle memory, so they never count.
  stats: async () => {
    const cpu = cpuSeconds();
    return { clients: sockets.size, cpu, rss: (await settledMemory()).rss };
  },
  broadcast: ({ count, payload, mode }) => {
    for (let i = 0; i < count; i++) broadcast(payload, mode);
    return {};
  },
});

process.on('SIGTERM', () => process.exit(0));
httpServer.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: httpServer.address().port }));
