// Benchmark floor for `socketio`: the least a server on `ws` must do to serve
// socket.io-client over WebSocket (Engine.IO v4 open packet, Socket.IO v5
// CONNECT answer, events, acks, pings), written directly on `ws` with no
// session layer. A broadcast is encoded once (one Buffer for every
// recipient); a unicast is encoded per recipient. Same IPC requests as
// socketio-server.mjs. Run by socketio-broadcast.mjs; not meant to be run by hand.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import { serveRequests, cpuSeconds, settledMemory } from './lib/child.mjs';

const PING_INTERVAL = 25_000;
const httpServer = createServer();
// ws's defaults: no compression; clientTracking off, the set below tracks.
const wss = new WebSocketServer({ server: httpServer, path: '/socket.io/', clientTracking: false, perMessageDeflate: false, maxPayload: 1e6 });
const sockets = new Set();
let seq = 0;

const openPacket = (sid) => `0{"sid":"${sid}","upgrades":[],"pingInterval":${PING_INTERVAL},"pingTimeout":20000,"maxPayload":1000000}`;

// One listener function for every socket (`this` is the socket), as a lean
// server would write it.
function onMessage(data, isBinary) {
  if (isBinary) return this.close(1003);
  const text = data.toString();
  if (text === '3') return; // pong
  if (text.startsWith('40')) {
    this.send(`40{"sid":"${randomBytes(15).toString('base64url')}"}`);
    return;
  }
  if (text.startsWith('42')) {
    // 42<ack id>[event, ...args]: the application sees the decoded event and acks with its seq.
    const bracket = text.indexOf('[');
    const args = JSON.parse(text.slice(bracket));
    events++;
    if (bracket > 2) this.send(`43${text.slice(2, bracket)}${JSON.stringify([args[1]?.seq ?? null])}`);
    return;
  }
  if (text === '41' || text === '1') this.close();
}
function onClose() {
  sockets.delete(this);
}
let events = 0;

wss.on('connection', (ws) => {
  sockets.add(ws);
  ws.on('message', onMessage);
  ws.on('close', onClose);
  ws.send(openPacket(randomBytes(15).toString('base64url')));
});

// One timer pings everybody; a client that stops answering would be closed
// by a real server, which the benchmark never needs.
setInterval(() => {
  for (const ws of sockets) ws.send('2');
}, PING_INTERVAL).unref();

const tick = (payload) => ({ seq: seq++, t: performance.timeOrigin + performance.now(), payload });

serveRequests({
  stats: () => ({ clients: sockets.size, cpu: cpuSeconds(), events }),
  memory: async () => ({ clients: sockets.size, ...(await settledMemory()) }),
  burst: ({ count, payload }) => {
    for (let i = 0; i < count; i++) {
      const frame = Buffer.from('42' + JSON.stringify(['tick', tick(payload)]));
      for (const ws of sockets) ws.send(frame, { binary: false });
    }
    return {};
  },
  unicast: ({ count, payload }) => {
    for (let i = 0; i < count; i++) {
      for (const ws of sockets) ws.send('42' + JSON.stringify(['tick', tick(payload)]));
    }
    return {};
  },
});

process.on('SIGTERM', () => process.exit(0));
httpServer.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: httpServer.address().port }));
