// Benchmark server for ingest.mjs: a sitehub hub (createHub, temp data folder)
// on the database named by argv[2] (`sqlite`, or the admin URL of a
// PostgreSQL cluster, in which the server makes its own databases) with N
// registered devices, plus the reference measurement on the same database
// engine: the same rows inserted into the same schema by the bare driver.
// Run by ingest.mjs; not meant to be run by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { serveRequests, cpuSeconds } from './lib/child.mjs';

const { createHub } = await import('@sitehub/hub');
const { openDatabase } = await import('../../hub/dist/iot/store/db.js');
const { PostgresStore } = await import('../../hub/dist/iot/store/postgres/store.js');

const adminUrl = process.argv[2] === 'sqlite' ? undefined : process.argv[2];

/** Makes a fresh database in the cluster and returns its URL. */
async function createDatabase(name) {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = '/' + name;
  return url.toString();
}

const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-bench-ingest-'));
const database = adminUrl ? await createDatabase('bench_hub') : 'sqlite';
// Every simulated device connects from 127.0.0.1: the per-address limits (docs/security.md) would pace them.
const hub = createHub({
  dataDir,
  port: 0,
  host: '127.0.0.1',
  adminToken: 'bench-admin-token',
  logLevel: 'warn',
  database,
  maxSessionsPerAddress: 0,
  maxConnectionsPerAddress: 0,
  handshakeRatePerAddress: 0,
});
const { port } = await hub.listen();

/** The rows the devices send, already serialised, in the order the hub sees them: each device's batch of consecutive seqs, device after device. */
function sameRows({ devices, batch, batchesPerDevice }) {
  const t0 = Date.now() - 3_600_000;
  const rows = [];
  for (let b = 0; b < batchesPerDevice; b++) {
    for (let d = 0; d < devices; d++) {
      for (let i = 1; i <= batch; i++) {
        const seq = b * batch + i;
        rows.push([`dev-${d}`, seq, t0 + seq, JSON.stringify({ temp: 20 + (seq % 7) / 10, rh: 40, ok: true })]);
      }
    }
  }
  return rows;
}

// The limit on SQLite: one prepared statement in transactions of `txRows`.
async function rawSqlite(rows, txRows) {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-bench-raw-'));
  const db = openDatabase(join(dir, 'raw.db'));
  const insert = db.prepare('INSERT OR IGNORE INTO telemetry (device_id, seq, ts, vals) VALUES (?, ?, ?, ?)');
  const insertMany = db.transaction((slice) => {
    for (const r of slice) insert.run(r[0], r[1], r[2], r[3]);
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i += txRows) insertMany(rows.slice(i, i + txRows));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return [{ method: `one prepared INSERT per row, ${txRows} rows per tx`, rows: rows.length, seconds, statements: rows.length }];
}

// The limit on PostgreSQL: a fresh database with the hub's schema (migrated and partitioned by the
// store), then the bare pg driver inserting the same rows in transactions of `txRows`, two ways.
async function rawPostgres(rows, txRows) {
  const out = [];
  for (const method of ['values', 'unnest']) {
    const url = await createDatabase(`bench_raw_${method}`);
    const schema = new PostgresStore({ url });
    await schema.open();
    const c = await schema.pool.connect();
    try {
      await schema.partitions.ensure(c, rows.map((r) => r[2]));
    } finally {
      c.release();
    }
    await schema.close();
    const client = new pg.Client(url);
    await client.connect();
    // A multi-row VALUES list, 1,000 rows a statement (4,000 parameters), the classic bulk insert.
    const VALUES_ROWS = 1000;
    const valuesSql = `INSERT INTO telemetry (device_id, seq, ts, vals) VALUES ${Array.from({ length: VALUES_ROWS }, (_, i) => `($${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`).join(', ')} ON CONFLICT DO NOTHING`;
    let statements = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += txRows) {
      const slice = rows.slice(i, i + txRows);
      await client.query('BEGIN');
      if (method === 'values') {
        for (let j = 0; j < slice.length; j += VALUES_ROWS) {
          const part = slice.slice(j, j + VALUES_ROWS);
          const text = part.length === VALUES_ROWS ? valuesSql : `INSERT INTO telemetry (device_id, seq, ts, vals) VALUES ${part.map((_, k) => `($${4 * k + 1}, $${4 * k + 2}, $${4 * k + 3}, $${4 * k + 4})`).join(', ')} ON CONFLICT DO NOTHING`;
          await client.query({ text, values: part.flat(), ...(part.length === VALUES_ROWS && { name: 'raw_values' }) });
          statements++;
        }
      } else {
        await client.query(
          'INSERT INTO telemetry (device_id, seq, ts, vals) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::json[]) ON CONFLICT DO NOTHING',
          [slice.map((r) => r[0]), slice.map((r) => r[1]), slice.map((r) => r[2]), slice.map((r) => r[3])],
        );
        statements++;
      }
      await client.query('COMMIT');
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stored = Number((await client.query('SELECT count(*) AS n FROM telemetry')).rows[0].n);
    await client.end();
    if (stored !== rows.length) throw new Error(`raw ${method} insert stored ${stored} of ${rows.length}`);
    out.push({
      method: method === 'values' ? `multi-row INSERT ... VALUES, ${VALUES_ROWS} rows a statement, ${txRows} per tx` : `INSERT ... SELECT unnest(arrays), ${txRows} rows a statement and tx`,
      rows: rows.length,
      seconds,
      statements,
    });
  }
  return out;
}

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
  // Alarm rules on every device's metric, none of which fires: each reading is judged by all of them.
  rules: async ({ count }) => {
    const kinds = [
      { condition: 'above', threshold: 1000 },
      { condition: 'below', threshold: -1000 },
      { condition: 'outside', low: -1000, high: 1000 },
      { condition: 'rate', threshold: 1e9 },
    ];
    for (let i = 0; i < count; i++) {
      await hub.services.alarms.createRule({ name: `bench-${i}`, scope: { kind: 'class', id: 'sensor' }, metric: 'temp', hysteresis: 0, holdMs: 1000, ...kinds[i % kinds.length] });
    }
    return { rules: (await hub.services.alarms.listRules()).length };
  },
  stats: async () => {
    const stored = adminUrl
      ? Number((await hub.store.pool.query('SELECT count(*) AS n FROM telemetry')).rows[0].n)
      : hub.store.db.prepare('SELECT count(*) AS n FROM telemetry').get().n;
    return { stored, cpu: cpuSeconds(), store: hub.store.stats() };
  },
  raw: async (load) => {
    const rows = sameRows(load);
    return { results: adminUrl ? await rawPostgres(rows, load.txRows) : await rawSqlite(rows, load.txRows) };
  },
});

process.send({ type: 'ready', port });
process.on('SIGTERM', async () => {
  await hub.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
