// Benchmark server for abuse.mjs: the hub with its default settings (only the
// port, a temp data folder, the admin token and the log level are given),
// with N registered devices. Run by abuse.mjs; not meant to be run by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveRequests, cpuSeconds } from './lib/child.mjs';

const { createHub } = await import('@sitehub/hub');

const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-bench-abuse-'));
const hub = createHub({ dataDir, port: 0, adminToken: 'bench-admin-token', logLevel: 'warn' });
const { port } = await hub.listen();

serveRequests({
  setup: async ({ devices }) => {
    const registry = hub.services.registry;
    await registry.createSite({ id: 'bench' });
    await registry.createClass({ id: 'sensor' });
    const tokens = [];
    for (let i = 0; i < devices; i++) {
      const { device, token } = await registry.registerDevice({ id: `dev-${i}`, classId: 'sensor', siteId: 'bench' });
      tokens.push({ deviceId: device.id, token });
    }
    return { tokens };
  },
  stats: async () => ({
    cpu: cpuSeconds(),
    rss: process.memoryUsage().rss,
    engineClients: hub.io.engine.clientsCount,
  }),
});

process.send({ type: 'ready', port, host: hub.addresses.bound });
process.on('SIGTERM', async () => {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
