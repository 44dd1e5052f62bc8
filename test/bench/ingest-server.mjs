// Benchmark server for ingest.mjs: a sitehub hub (createHub, temp data folder)
// with N registered devices, plus the reference measurement: a raw
// better-sqlite3 batched insert of the same rows into the same schema.
// Run by ingest.mjs; not meant to be run by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveRequests, cpuSeconds } from './lib/child.mjs';

const { createHub } = await import('@sitehub/hub');
const { openDatabase } = await import('../../hub/dist/iot/store/db.js');

const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-bench-ingest-'));
// Every simulated device connects from 127.0.0.1: the per-address limits (docs/security.md) would pace them.
const hub = createHub({
  dataDir,
  port: 0,
  host: '127.0.0.1',
  adminToken: 'bench-admin-token',
  logLevel: 'warn',
  maxSessionsPerAddress: 0,
  maxConnectionsPerAddress: 0,
  handshakeRatePerAddress: 0,
});
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
  stats: async () => {
    const stored = hub.store.db.prepare('SELECT count(*) AS n FROM telemetry').get().n;
    return { stored, cpu: cpuSeconds(), store: hub.store.stats() };
  },
  // The limit: the same rows, already serialised, in the same order, inserted by one prepared statement in transactions of `txRows`.
  raw: async ({ devices, batch, batchesPerDevice, txRows }) => {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-bench-raw-'));
    const db = openDatabase(join(dir, 'raw.db'));
    const insert = db.prepare('INSERT OR IGNORE INTO telemetry (device_id, seq, ts, vals) VALUES (?, ?, ?, ?)');
    const t0 = Date.now() - 3_600_000;
    const rows = [];
    // The order the hub sees them in: each device's batch of consecutive seqs, device after device.
    for (let b = 0; b < batchesPerDevice; b++) {
      for (let d = 0; d < devices; d++) {
        for (let i = 1; i <= batch; i++) {
          const seq = b * batch + i;
          rows.push([`dev-${d}`, seq, t0 + seq, JSON.stringify({ temp: 20 + (seq % 7) / 10, rh: 40, ok: true })]);
        }
      }
    }
    const insertMany = db.transaction((slice) => {
      for (const r of slice) insert.run(r[0], r[1], r[2], r[3]);
    });
    const start = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += txRows) insertMany(rows.slice(i, i + txRows));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    db.close();
    rmSync(dir, { recursive: true, force: true });
    return { rows: rows.length, seconds };
  },
});

process.send({ type: 'ready', port });
process.on('SIGTERM', async () => {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
