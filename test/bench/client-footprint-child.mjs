// Benchmark child: one idle client connection (sitehub's io() or
// socket.io-client's), or none for the bare-process baseline. Reports its
// memory once connected, upgraded and settled. Run by client-footprint.mjs.
import { serveRequests, settledRss } from './lib/child.mjs';

const [impl, url, transports = 'polling,websocket'] = process.argv.slice(2);
const SETTLE_MS = 1000;

async function connect() {
  if (impl === 'none') return undefined;
  const { io } = impl === 'sitehub' ? await import('@sitehub/device-client') : await import('socket.io-client');
  const socket = io(url, { reconnection: false, transports: transports.split(',') });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  // Measured after the upgrade, the steady state of a long-lived device.
  for (let i = 0; i < 250 && socket.io.engine.transport.name !== 'websocket'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return socket;
}

const socket = await connect();
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
serveRequests({
  stats: async () => ({
    rss: await settledRss(),
    transport: socket ? socket.io.engine.transport.name : 'none',
    connected: socket ? socket.connected : false,
  }),
});
process.on('SIGTERM', () => process.exit(0));
process.send({ type: 'ready', port: 0 });
