// Device fleet for capacity.mjs: one process holding a share of the devices,
// each a socket.io-client socket to /devices/sensor over WebSocket (what the
// agent uses), with its own token, from its own loopback source address, and
// the client's default reconnection (unlimited attempts, 1 s doubling to 5 s,
// +-50% jitter). It counts what the devices see and streams acked readings
// from a subset on request. Run by capacity.mjs; not meant to be run by hand.
import { io } from 'socket.io-client';
import { serveRequests } from './lib/child.mjs';
import { watchEventLoop } from './lib/loop-watch.mjs';

const loop = watchEventLoop();
/** One entry per device: its socket and what happened to it. */
const fleet = [];
const counts = { disconnects: 0, connectErrors: 0, refusedByNamespace: 0, serverKicks: 0, reconnectAttempts: 0, reconnectFailed: 0, errorCodes: {} };
let storm; // { t0, back, waiters }
let stream; // { stopped, loops, acked, sent, failed, timedOut }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function track(device) {
  const { socket } = device;
  socket.on('connect', () => {
    device.up = true;
    device.connects++;
    if (storm && device.wentDown && device.backAt === undefined) {
      device.backAt = Date.now();
      storm.back++;
      if (storm.back === fleet.length) for (const w of storm.waiters) w();
    }
  });
  socket.on('disconnect', (reason) => {
    device.up = false;
    counts.disconnects++;
    if (storm) device.wentDown = true;
    // The server ended the session on purpose: socket.io-client does not come back by itself; a device would.
    if (reason === 'io server disconnect') {
      counts.serverKicks++;
      setTimeout(() => socket.connect(), 1000 + Math.random() * 1000);
    }
  });
  socket.on('connect_error', (err) => {
    counts.connectErrors++;
    const code = err?.data?.code ?? err?.message ?? 'unknown';
    counts.errorCodes[code] = (counts.errorCodes[code] ?? 0) + 1;
    // Refused by the namespace (not the transport): the client stops; a device waits and tries again.
    if (!socket.active) {
      counts.refusedByNamespace++;
      setTimeout(() => socket.connect(), 1000 + Math.random() * 1000);
    }
  });
  socket.io.on('reconnect_attempt', () => counts.reconnectAttempts++);
  socket.io.on('reconnect_failed', () => counts.reconnectFailed++);
}

/** Opens every device's socket, `concurrency` handshakes in flight; resolves when all are connected or `timeoutMs` passed. */
async function connect({ url, devices, concurrency, timeoutMs }) {
  const start = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < devices.length && Date.now() - start < timeoutMs) {
      const { deviceId, token, address } = devices[next++];
      const socket = io(url, { auth: { deviceId, token }, transports: ['websocket'], forceNew: true, localAddress: address });
      const device = { deviceId, socket, up: false, connects: 0, seq: 0, wentDown: false, backAt: undefined };
      fleet.push(device);
      track(device);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, timeoutMs - (Date.now() - start)));
        socket.once('connect', () => (clearTimeout(timer), resolve()));
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { connected: fleet.filter((d) => d.up).length, total: devices.length, seconds: (Date.now() - start) / 1000 };
}

/** From now on, a device that goes down and comes back is counted as back at the time it reconnects. */
function markStorm({ t0 }) {
  storm = { t0, back: 0, waiters: [] };
  for (const d of fleet) {
    d.wentDown = false;
    d.backAt = undefined;
  }
  loop.reset();
  storm.cpu = process.cpuUsage();
  return {};
}

/** Resolves when every device has come back after the storm mark, or after `timeoutMs`; with the reconnect times (ms after t0). */
async function waitBack({ timeoutMs }) {
  if (storm.back < fleet.length) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      storm.waiters.push(() => (clearTimeout(timer), resolve()));
    });
  }
  const times = fleet.filter((d) => d.backAt !== undefined).map((d) => d.backAt - storm.t0);
  const cpu = process.cpuUsage(storm.cpu);
  return { back: times.length, total: fleet.length, times, neverDown: fleet.filter((d) => !d.wentDown).length, loop: loop.report(), cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Every `every`-th device sends one reading every `periodMs` (+-10%) and waits for its ack, until stopStream. */
function startStream({ every, periodMs, ackTimeoutMs }) {
  stream = { stopped: false, acked: [], sent: 0, failed: 0, timedOut: 0, loops: [] };
  const s = stream;
  for (let i = 0; i < fleet.length; i += every) {
    const d = fleet[i];
    s.loops.push(
      (async () => {
        await sleep(Math.random() * periodMs);
        while (!s.stopped) {
          const seq = ++d.seq;
          s.sent++;
          try {
            const ack = await d.socket.timeout(ackTimeoutMs).emitWithAck('telemetry', { seq, ts: Date.now(), values: { temp: 20 + (seq % 7) / 10, rh: 40 } });
            if (ack?.ok) s.acked.push([d.deviceId, seq]);
            else s.failed++;
          } catch {
            s.timedOut++;
          }
          await sleep(periodMs * (0.9 + Math.random() * 0.2));
        }
      })(),
    );
  }
  return { streamers: s.loops.length };
}

/** Stops the stream; waits for the readings in flight (each bounded by its ack timeout). */
async function stopStream() {
  stream.stopped = true;
  await Promise.all(stream.loops);
  const { acked, sent, failed, timedOut } = stream;
  return { acked, sent, failed, timedOut };
}

serveRequests({
  connect,
  markStorm,
  waitBack,
  startStream,
  stopStream,
  status: () => ({ ...counts, up: fleet.filter((d) => d.up).length, total: fleet.length, loop: loop.report() }),
});

const closeAll = () => {
  for (const d of fleet) d.socket.close();
};
process.on('SIGTERM', () => (closeAll(), process.exit(0)));
// The parent went away (crashed or was killed): do not outlive it.
process.on('disconnect', () => (closeAll(), process.exit(0)));
process.send({ type: 'ready' });
