// Benchmark server for capacity.mjs: the sitehub hub (createHub) on a data
// folder and port given by the parent, so that a second process can take over
// the same database and port after the first is killed. Default settings
// except the process-wide connection caps, which an operator sizes to the
// node (the per-address limits stay at their defaults). Run by capacity.mjs;
// not meant to be run by hand. Args: JSON { dataDir, port }.
import { cpuSeconds, serveRequests, settledMemory } from './lib/child.mjs';
import { watchEventLoop } from './lib/loop-watch.mjs';

// Watching starts before the hub is built: a restart's own work (loading,
// opening the store, marking every device offline) is reported apart from
// the stalls while the hub serves devices.
const loop = watchEventLoop();
const { dataDir, port: wantedPort } = JSON.parse(process.argv[2]);
const { createHub } = await import('@sitehub/hub');

const hub = createHub({
  dataDir,
  port: wantedPort,
  host: '127.0.0.1',
  adminToken: 'bench-admin-token',
  logLevel: 'warn',
  // 20,000 open files per process: room for 19,000 device sockets, the listener and the database files.
  maxConnections: 19_500,
  maxSessions: 19_000,
});
const { port } = await hub.listen();
/** CPU spent starting (modules, store, marking devices offline), apart from what the devices cost afterwards. */
const cpuAtListen = cpuSeconds();
const loopBeforeListen = loop.report();
loop.reset();
const telemetryRows = () => hub.store.db.prepare('SELECT count(*) FROM telemetry').pluck().get();
const telemetryRowsAtListen = telemetryRows();

serveRequests({
  setup: async ({ devices }) => {
    const registry = hub.services.registry;
    await registry.createSite({ id: 'bench' });
    await registry.createClass({ id: 'sensor' });
    const tokens = [];
    // In parallel slices: each slice's writes share group commits.
    for (let i = 0; i < devices; i += 500) {
      const slice = await Promise.all(
        Array.from({ length: Math.min(500, devices - i) }, (_, j) => registry.registerDevice({ id: `dev-${i + j}`, classId: 'sensor', siteId: 'bench' })),
      );
      for (const { device, token } of slice) tokens.push({ deviceId: device.id, token });
    }
    return { tokens };
  },
  memory: async () => ({ clients: hub.io.engine.clientsCount, ...(await settledMemory()) }),
  stats: () => ({
    cpu: cpuSeconds(),
    uptime: process.uptime(),
    cpuAtListen,
    loopBeforeListen,
    telemetryRows: telemetryRows(),
    telemetryRowsAtListen,
    rss: process.memoryUsage().rss,
    clients: hub.io.engine.clientsCount,
    loop: loop.report(),
    // Group commits since this process started (a restarted server: its start and the storm).
    commits: hub.store.stats(),
    refused: {
      ...Object.fromEntries([...hub.io.engine.metrics.refused].map(([k, v]) => [`engine|${k}`, v])),
      ...Object.fromEntries(hub.services.metrics.refusedConnections.values),
      // Sessions the hub closed because their CONNECT came later than connectTimeoutMs (10 s): slow clients in a storm.
      'realtime|connect_timeout': hub.io.metrics.connectTimeouts,
    },
  }),
  resetLoop: () => (loop.reset(), {}),
  /** Which of the acked readings ([deviceId, seq] pairs) the store holds. */
  verify: ({ acked }) => {
    const has = hub.store.db.prepare('SELECT 1 FROM telemetry WHERE device_id = ? AND seq = ?').pluck();
    const missing = acked.filter(([deviceId, seq]) => has.get(deviceId, seq) === undefined);
    const total = hub.store.db.prepare('SELECT count(*) FROM telemetry').pluck().get();
    return { checked: acked.length, missing: missing.length, firstMissing: missing.slice(0, 5), storedTotal: total };
  },
});

process.send({ type: 'ready', port });
process.on('SIGTERM', async () => {
  await hub.close();
  process.exit(0);
});
// The parent went away (crashed or was killed): do not outlive it.
process.on('disconnect', () => process.exit(0));
