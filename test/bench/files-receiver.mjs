// The receiving side of the files benchmark, in its own process: either a
// sitehub device (device-client socket + FileReceiver, as the agent does) or
// a raw `ws` client. Both write what arrives to a file, hash it with SHA-256,
// fsync and rename at the end, and report the time from the transfer's first
// message to that point.
import { createHash } from 'node:crypto';
import { open, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import WebSocket from 'ws';
import { FileReceiver, io } from '@sitehub/device-client';

const [mode, url, dir, deviceId, token, window] = process.argv.slice(2);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
await mkdir(dir, { recursive: true });

if (mode === 'sitehub') {
  const socket = io(url, { auth: { deviceId, token }, transports: ['websocket'], forceNew: true });
  const receiver = new FileReceiver(socket, { dir, maxBytes: 2 ** 31, windowChunks: Number(window), hookTimeoutMs: 1000 }, pino({ level: 'silent' }));
  let started = 0;
  let cpuAtStart = 0;
  socket.on('file:offer', (offer, ack) => {
    started = performance.now();
    cpuAtStart = cpuMs();
    void receiver.offer(offer, ack);
  });
  socket.on('file:chunk', (chunk) => receiver.chunk(chunk));
  // The receiver emits file:done once the file is in place: that is the end of the transfer.
  const emit = socket.emit.bind(socket);
  socket.emit = (event, ...args) => {
    if (event === 'file:done') process.send({ type: 'done', ms: performance.now() - started, cpuMs: cpuMs() - cpuAtStart, ok: args[0].ok, sha256: args[0].sha256 });
    return emit(event, ...args);
  };
  socket.once('connect', () => process.send({ type: 'ready' }));
} else {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  let header;
  let fh;
  let hash;
  let received = 0;
  let started = 0;
  let cpuAtStart = 0;
  let queue = Promise.resolve();
  ws.on('open', () => process.send({ type: 'ready' }));
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      header = JSON.parse(data.toString());
      started = performance.now();
      cpuAtStart = cpuMs();
      hash = createHash('sha256');
      received = 0;
      queue = open(join(dir, `${header.name}.part`), 'w').then((f) => void (fh = f));
      return;
    }
    queue = queue.then(async () => {
      await fh.write(data, 0, data.length, received);
      hash.update(data);
      received += data.length;
      if (received === header.size) {
        await fh.sync();
        await fh.close();
        await rename(join(dir, `${header.name}.part`), join(dir, header.name));
        const sha256 = hash.digest('hex');
        process.send({ type: 'done', ms: performance.now() - started, cpuMs: cpuMs() - cpuAtStart, ok: sha256 === header.sha256, sha256 });
        ws.send('done');
      }
    });
  });
}
process.on('SIGTERM', () => process.exit(0));
