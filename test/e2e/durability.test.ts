// Durability: the hub process is killed with SIGKILL in the middle of a
// telemetry stream; after a restart on the same data folder (and the same
// database) every reading that was acked is in the store. On both databases;
// on PostgreSQL also the database itself restarted mid-stream under a hub
// that keeps running.
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFor, closeClients, connectClient, connected, readings, registerDevice, ADMIN_TOKEN, type Api } from '../iot/helpers.js';
import { postgresCluster, stopPostgresCluster } from '../iot/store-backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(root, 'hub/dist/main.js');
const children = new Set<ChildProcess>();
let dataDir: string;

/** Runs `sitehub` (the built command) as a child; resolves with its port once it listens. */
function startHubProcess(database = 'sqlite'): Promise<{ child: ChildProcess; base: string }> {
  const args = ['--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--admin-token', ADMIN_TOKEN, '--log-level', 'fatal', '--database', database];
  const child = fork(MAIN, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hub process did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`hub process exited with ${code}`)));
    child.on('message', (msg: { type?: string; port?: number }) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${msg.port}` });
      }
    });
  });
}

beforeAll(() => {
  // The test runs the built command; make sure the build is current.
  execSync('npx tsc -b', { cwd: root, stdio: 'ignore' });
  dataDir = mkdtempSync(join(tmpdir(), 'sitehub-durability-'));
}, 120_000);

afterAll(async () => {
  closeClients();
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  await stopPostgresCluster();
});

/** Every seq stored for the device, read back page by page over REST. */
async function storedSeqs(api: Api, deviceId: string): Promise<Set<number>> {
  const stored = new Set<number>();
  let after = 0;
  for (let page = 0; page < 1000; page++) {
    const res = await api('GET', `/api/devices/${deviceId}/telemetry?afterSeq=${after}&limit=10000`);
    expect(res.status).toBe(200);
    if (res.body.items.length === 0) break;
    for (const r of res.body.items) stored.add(r.seq);
    after = res.body.items[res.body.items.length - 1].seq;
  }
  return stored;
}

const DATABASES: Array<{ name: string; database: () => Promise<string> }> = [
  { name: 'sqlite', database: async () => 'sqlite' },
  { name: 'postgres', database: async () => (await postgresCluster()).createDatabase() },
];

describe.each(DATABASES)('durability across SIGKILL on $name', (db) => {
  it('keeps every acked reading', async () => {
    const database = await db.database();
    const first = await startHubProcess(database);
    const api = apiFor(first.base);
    const { deviceId, token } = await registerDevice(api);
    const device = connectClient(first.base, '/devices/thermo', { deviceId, token });
    await connected(device);

    const acked = new Set<number>();
    const BATCH = 50;
    const IN_FLIGHT = 4;
    let nextSeq = 1;
    let killed = false;
    // Several batches in flight at once, so that the kill lands between a commit and its ack for some of them.
    const lane = async () => {
      for (let round = 0; round < 10_000 && !killed; round++) {
        const batch = readings(nextSeq, BATCH);
        nextSeq += BATCH;
        try {
          const answer = await device.timeout(3000).emitWithAck('telemetry', batch);
          if (answer.ok) for (const r of batch) acked.add(r.seq);
        } catch {
          return; // the hub died: no ack for this batch
        }
      }
    };
    const lanes = Array.from({ length: IN_FLIGHT }, lane);
    const deadline = Date.now() + 10_000;
    while (acked.size < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    killed = true;
    await new Promise((r) => first.child.once('exit', r));
    await Promise.all(lanes);
    closeClients();
    expect(acked.size).toBeGreaterThanOrEqual(1000);

    const second = await startHubProcess(database);
    const api2 = apiFor(second.base);
    const stored = await storedSeqs(api2, deviceId);
    const missing = [...acked].filter((seq) => !stored.has(seq));
    expect(missing).toEqual([]);
    // The restarted hub knows the device is not connected any more.
    expect((await api2('GET', `/api/devices/${deviceId}`)).body.online).toBe(false);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 60_000);
});

describe('PostgreSQL restarted under a running hub', () => {
  it('loses no acked reading, refuses retryably and says not ready while it is away, and recovers by itself', async () => {
    const cluster = await postgresCluster();
    const database = await cluster.createDatabase();
    const hub = await startHubProcess(database);
    const api = apiFor(hub.base);
    const { deviceId, token } = await registerDevice(api);
    const device = connectClient(hub.base, '/devices/thermo', { deviceId, token });
    await connected(device);

    const acked = new Set<number>();
    const refusals: unknown[] = [];
    const BATCH = 50;
    const LANES = 4;
    const BATCHES_PER_LANE = 40;
    const deadline = Date.now() + 45_000;
    // Each lane sends its own batches in order and resends one until it is acked, as the agent's outbox does.
    const lane = async (l: number) => {
      for (let b = 0; b < BATCHES_PER_LANE; b++) {
        const batch = readings((l * BATCHES_PER_LANE + b) * BATCH + 1, BATCH);
        for (;;) {
          if (Date.now() > deadline) throw new Error('stream did not finish within 45 s');
          let answer: { ok: boolean; retryable?: boolean; code?: string };
          try {
            answer = await device.timeout(5000).emitWithAck('telemetry', batch);
          } catch {
            continue; // no ack within the timeout: not stored as far as the device knows, send again
          }
          if (answer.ok) {
            for (const r of batch) acked.add(r.seq);
            break;
          }
          refusals.push(answer);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const lanes = Array.from({ length: LANES }, (_, l) => lane(l));
    while (acked.size < 1500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));

    // A crash of the database (immediate shutdown: crash recovery at next start), in the middle of the stream.
    await cluster.kill('immediate');
    const ackedBeforeRestart = new Set(acked);
    let notReady: { status: number; body: any } | undefined;
    for (let i = 0; i < 50 && !notReady; i++) {
      const res = await api('GET', '/readyz');
      if (res.status === 503) notReady = res;
      else await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.start();

    await Promise.all(lanes);
    expect(notReady).toMatchObject({ status: 503, body: { ok: false, db: false } });
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) expect(r).toEqual({ ok: false, error: 'store unavailable, retry later', code: 'store_unavailable', retryable: true });
    expect(acked.size).toBe(LANES * BATCHES_PER_LANE * BATCH);
    expect((await api('GET', '/readyz')).status).toBe(200);

    // Straight from the database: every reading acked (before the crash or after) is there, once.
    const client = new pg.Client(database);
    await client.connect();
    const rows = (await client.query<{ seq: string }>('SELECT seq FROM telemetry WHERE device_id = $1', [deviceId])).rows;
    await client.end();
    const stored = new Set(rows.map((r) => Number(r.seq)));
    expect(rows.length).toBe(stored.size);
    expect([...ackedBeforeRestart].filter((seq) => !stored.has(seq))).toEqual([]);
    expect([...acked].filter((seq) => !stored.has(seq))).toEqual([]);
    hub.child.kill('SIGTERM');
    await new Promise((r) => hub.child.once('exit', r));
  }, 90_000);
});
