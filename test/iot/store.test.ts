// The store on its own, one suite run against both backends (SQLite and
// PostgreSQL): schema versions, the group-commit writer (one transaction per
// tick, a failing job rolled back alone), idempotent telemetry, retention,
// aggregates, and each resource's reads and writes. What only one backend
// has (SQLite's pragmas, PostgreSQL's partitions) is at the end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { MIGRATIONS } from '../../hub/src/iot/store/migrations.js';
import { PG_MIGRATIONS } from '../../hub/src/iot/store/postgres/migrations.js';
import { SqliteStore } from '../../hub/src/iot/store/sqlite-store.js';
import type { Store } from '../../hub/src/iot/store/types.js';
import { BACKENDS, closeStores, stopPostgresCluster } from './store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

async function seedDevice(store: Store, id = 'd1'): Promise<void> {
  if (!(await store.registry.getSite('s'))) await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
  if (!(await store.registry.getClass('c'))) await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1, meta: {} });
  await store.registry.createDevice({ id, classId: 'c', siteId: 's', name: id, meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
}

const reading = (seq: number, ts = 1_700_000_000_000 + seq) => ({ seq, ts, values: { v: seq }, valuesJson: JSON.stringify({ v: seq }) });
const DAY = 86_400_000;

describe.each(BACKENDS)('the store on $name', (backend) => {
  it('refuses a database from a newer hub', async () => {
    const opened = await backend.open();
    await opened.store.close();
    const known = backend.name === 'sqlite' ? MIGRATIONS.length : PG_MIGRATIONS.length;
    await opened.setSchemaVersion(known + 1);
    await expect(opened.reopen()).rejects.toThrow(/newer than this hub knows/);
  });

  it('keeps what it stored across a close and a reopen, and migrates nothing twice', async () => {
    const opened = await backend.open();
    await seedDevice(opened.store);
    await opened.store.telemetry.insert('d1', [reading(1), reading(2)], 5);
    const again = await opened.reopen();
    expect(await again.telemetry.count('d1')).toBe(2);
    expect((await again.registry.getDevice('d1'))?.lastSeen).toBe(5);
  });

  it('commits every write of one tick in a single transaction, and settles them only after it', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    const before = store.stats().commits;
    const writes = Array.from({ length: 50 }, (_, i) => store.telemetry.insert('d1', [reading(i + 1)], Date.now()));
    expect(store.stats().queueDepth).toBe(50);
    const results = await Promise.all(writes);
    expect(results.every((r) => r.stored.length === 1)).toBe(true);
    expect(store.stats().commits - before).toBe(1);
    expect(await store.telemetry.count('d1')).toBe(50);
  });

  it('rolls back a failing job alone; the others in the same commit stay', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    const ok = store.telemetry.insert('d1', [reading(1), reading(2)], Date.now());
    // A duplicate site id violates a unique key inside the same group commit.
    const bad = store.registry.createSite({ id: 's', name: 'dup', meta: {}, createdAt: 1 });
    const ok2 = store.telemetry.insert('d1', [reading(3)], Date.now());
    const ok3 = store.registry.createSite({ id: 's2', name: 'fine', meta: {}, createdAt: 1 });
    await expect(bad).rejects.toThrow(/UNIQUE|duplicate key/);
    expect((await ok).stored).toHaveLength(2);
    expect((await ok2).stored).toHaveLength(1);
    await ok3;
    expect(await store.telemetry.count('d1')).toBe(3);
    expect((await store.registry.getSite('s2'))?.name).toBe('fine');
    expect((await store.registry.getSite('s'))?.name).toBe('s');
  });

  it('is idempotent on (device, seq) and reports duplicates, also within one group commit', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    await seedDevice(store, 'd2');
    expect((await store.telemetry.insert('d1', [reading(1), reading(2)], 0)).duplicates).toBe(0);
    const again = await store.telemetry.insert('d1', [reading(2), reading(3), reading(3)], 0);
    expect(again.stored.map((r) => r.seq)).toEqual([3]);
    expect(again.duplicates).toBe(2);
    expect(await store.telemetry.insert('d1', [reading(1), reading(3)], 0)).toEqual({ stored: [], duplicates: 2 });
    // Two events of one tick overlapping each other: the first one stores, the second finds duplicates.
    const [a, b, other] = await Promise.all([
      store.telemetry.insert('d1', [reading(4), reading(5)], 0),
      store.telemetry.insert('d1', [reading(5), reading(6)], 0),
      store.telemetry.insert('d2', [reading(4)], 0),
    ]);
    // Each batch that stored something got its own replay-log position, in batch order.
    expect(a).toEqual({ stored: [reading(4), reading(5)], duplicates: 0, pos: 3 });
    expect(b).toEqual({ stored: [reading(6)], duplicates: 1, pos: 4 });
    expect(other.stored).toHaveLength(1);
    expect(await store.telemetry.count('d1')).toBe(6);
  });

  it('reads ranges by time and after a seq', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    await store.telemetry.insert('d1', [reading(1, 3000), reading(2, 1000), reading(3, 2000), reading(4, 9000)], 0);
    const byTime = await store.telemetry.query({ deviceId: 'd1', from: 1000, to: 3000, limit: 10 });
    expect(byTime.map((r) => r.seq)).toEqual([2, 3, 1]);
    expect(byTime[0]).toEqual({ seq: 2, ts: 1000, values: { v: 2 } });
    const after = await store.telemetry.query({ deviceId: 'd1', from: 0, to: 1e13, afterSeq: 2, limit: 1 });
    expect(after.map((r) => r.seq)).toEqual([3]);
  });

  it('prunes history older than the cutoff and keeps the rest', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    // Whole days apart: PostgreSQL drops telemetry a partition (a day) at a time.
    await store.telemetry.insert('d1', [reading(1, 1000), reading(2, 2000), reading(3, 2 * DAY + 3000)], 0);
    await store.stateEvents.insertEvent({ deviceId: 'd1', ts: 1000, kind: 'log', severity: 'info', message: 'old', data: null, receivedAt: 1000 });
    await store.stateEvents.insertEvent({ deviceId: 'd1', ts: 2 * DAY + 5000, kind: 'log', severity: 'info', message: 'new', data: null, receivedAt: 5000 });
    expect(await store.prune(DAY + 500)).toBe(3);
    expect((await store.telemetry.query({ deviceId: 'd1', from: 0, to: 1e13, limit: 10 })).map((r) => r.seq)).toEqual([3]);
    expect((await store.stateEvents.listEvents('d1', 0, 1e13, undefined, 10)).map((e) => e.message)).toEqual(['new']);
    // A pruned day takes new readings again.
    expect((await store.telemetry.insert('d1', [reading(1, 1000)], 0)).stored).toHaveLength(1);
  });

  it('buckets a metric into min/max/avg/count per interval, counting only numbers', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    const rows = [1, 2, 3, 4].map((seq) => ({ seq, ts: seq * 1000, values: { t: seq * 10 }, valuesJson: JSON.stringify({ t: seq * 10 }) }));
    rows.push({ seq: 5, ts: 3500, values: { t: 'hot' as unknown as number }, valuesJson: JSON.stringify({ t: 'hot' }) });
    await store.telemetry.insert('d1', rows, 0);
    expect(await store.telemetry.aggregate('d1', 't', 0, 10_000, 2000)).toEqual([
      { ts: 0, min: 10, max: 10, avg: 10, count: 1 },
      { ts: 2000, min: 20, max: 30, avg: 25, count: 2 },
      { ts: 4000, min: 40, max: 40, avg: 40, count: 1 },
    ]);
    expect(await store.telemetry.aggregate('d1', 'missing', 0, 10_000, 2000)).toEqual([]);
  });

  it('stores the registry: sites, classes, devices with filters, credentials, bridge tokens', async () => {
    const { store } = await backend.open();
    await seedDevice(store, 'a');
    await seedDevice(store, 'b');
    expect(await store.registry.updateSite('s', { name: 'Plant', meta: { floor: 2 } })).toMatchObject({ id: 's', name: 'Plant', meta: { floor: 2 } });
    expect(await store.registry.updateSite('nope', { name: 'x' })).toBeUndefined();
    expect((await store.registry.listSites()).map((s) => s.id)).toEqual(['s']);
    expect((await store.registry.listClasses()).map((c) => c.id)).toEqual(['c']);
    const b = await store.registry.updateDevice('b', { disabled: true, meta: { k: 1 } });
    expect(b).toMatchObject({ id: 'b', disabled: true, meta: { k: 1 }, online: false, lastSeen: null });
    expect(await store.registry.updateDevice('zz', { name: 'x' })).toBeUndefined();
    expect((await store.registry.listDevices({ disabled: true, limit: 10, offset: 0 })).map((d) => d.id)).toEqual(['b']);
    expect((await store.registry.listDevices({ siteId: 's', limit: 1, offset: 1 })).map((d) => d.id)).toEqual(['b']);
    expect(await store.registry.setTokenHash('a', Buffer.alloc(32, 7))).toBe(true);
    expect(await store.registry.setTokenHash('zz', Buffer.alloc(32, 7))).toBe(false);
    expect((await store.registry.getCredentials('a'))?.tokenHash.equals(Buffer.alloc(32, 7))).toBe(true);
    await store.registry.createBridgeToken({ id: 'bt', name: 'mqtt', disabled: false, createdAt: 3 }, Buffer.alloc(32, 9));
    expect(await store.registry.findBridgeToken(Buffer.alloc(32, 9))).toEqual({ id: 'bt', name: 'mqtt', disabled: false, createdAt: 3 });
    expect(await store.registry.disableBridgeToken('bt')).toBe(true);
    expect((await store.registry.listBridgeTokens())[0]?.disabled).toBe(true);
    expect(await store.registry.findBridgeToken(Buffer.alloc(32, 1))).toBeUndefined();
  });

  it('merges state attributes, keeps their history, and stores events', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    await store.stateEvents.applyState({ deviceId: 'd1', attrs: { mode: 'auto', fan: 2 }, ts: 100 }, 1000);
    const [s2, s3] = await Promise.all([
      store.stateEvents.applyState({ deviceId: 'd1', attrs: { fan: null, door: 'open' }, ts: 90 }, 1001),
      store.stateEvents.applyState({ deviceId: 'd1', attrs: { mode: 'manual' }, ts: 200 }, 1002),
    ]);
    expect(s2).toMatchObject({ deviceId: 'd1', attrs: { mode: 'auto', door: 'open' }, ts: 100, updatedAt: 1001 });
    expect(s2.pos).toBeGreaterThan(0);
    expect(s3.attrs).toEqual({ mode: 'manual', door: 'open' });
    expect(await store.stateEvents.getState('d1')).toEqual({ deviceId: 'd1', attrs: { mode: 'manual', door: 'open' }, ts: 200, updatedAt: 1002 });
    expect((await store.stateEvents.stateHistory('d1', 0, 1000, 10)).map((h) => h.ts)).toEqual([200, 100, 90]);
    const e = await store.stateEvents.insertEvent({ deviceId: 'd1', ts: 5, kind: 'alarm', severity: 'high', message: 'hot', data: { t: 90 }, receivedAt: 6 });
    expect(e.id).toBeTypeOf('number');
    const { pos: _pos, ...stored } = e; // the position is the write's, not the event's
    expect(await store.stateEvents.listEvents('d1', 0, 10, 'alarm', 10)).toEqual([stored]);
    expect(await store.stateEvents.listEvents('d1', 0, 10, 'log', 10)).toEqual([]);
  });

  it('lists the most recent alarms of every device, newest first', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    await seedDevice(store, 'd2');
    const event = (deviceId: string, ts: number, kind: string, severity: string) =>
      store.stateEvents.insertEvent({ deviceId, ts, kind, severity, message: `${kind}@${ts}`, data: null, receivedAt: ts });
    await event('d1', 1, 'alarm', 'info');
    await event('d2', 2, 'log', 'info'); // neither an alarm nor a warning: not listed
    await event('d2', 3, 'log', 'warning');
    await event('d1', 4, 'alarm', 'critical');
    expect((await store.stateEvents.recentAlarms(10)).map((e) => [e.deviceId, e.ts])).toEqual([['d1', 4], ['d2', 3], ['d1', 1]]);
    expect(await store.stateEvents.recentAlarms(1)).toHaveLength(1);
  });

  it('keeps commands: deliverable oldest first, final statuses final, expiry', async () => {
    const { store } = await backend.open();
    await seedDevice(store);
    const cmd = (id: string, createdAt: number, expiresAt: number) => ({
      id, deviceId: 'd1', name: 'n', params: { id }, status: 'pending' as const, attempts: 0, createdAt, updatedAt: createdAt, expiresAt, result: null, error: null, source: 'api',
    });
    await store.commands.create(cmd('c1', 10, 1000));
    await store.commands.create(cmd('c2', 10, 50));
    await store.commands.create(cmd('c3', 5, 1000));
    expect((await store.commands.deliverable('d1', 20)).map((c) => c.id)).toEqual(['c3', 'c1', 'c2']);
    expect(await store.commands.update('c1', { status: 'acked', attempts: 1, result: { ok: 1 }, error: null }, 30)).toMatchObject({ id: 'c1', status: 'acked', result: { ok: 1 }, attempts: 1, updatedAt: 30 });
    expect(await store.commands.update('c1', { status: 'failed' }, 31)).toBeUndefined();
    const expired = await store.commands.expire(60);
    expect(expired.map((c) => [c.id, c.status, c.error])).toEqual([['c2', 'expired', 'expired before the device answered']]);
    expect((await store.commands.get('c2'))?.status).toBe('expired');
    expect((await store.commands.list({ deviceId: 'd1', limit: 10 })).map((c) => c.id)).toEqual(['c2', 'c1', 'c3']);
    expect((await store.commands.list({ status: 'pending', limit: 10 })).map((c) => c.id)).toEqual(['c3']);
  });

  it('records presence and marks everyone offline after a restart', async () => {
    const { store } = await backend.open();
    await seedDevice(store, 'a');
    await seedDevice(store, 'b');
    await store.presence.record({ deviceId: 'a', online: true, ts: 10, reason: 'connect', transport: 'websocket' });
    await store.presence.record({ deviceId: 'b', online: true, ts: 11, reason: 'connect', transport: 'polling' });
    expect((await store.registry.getDevice('a'))).toMatchObject({ online: true, lastSeen: 10 });
    expect(await store.presence.resetOnline(20)).toBe(2);
    expect((await store.registry.listDevices({ online: true, limit: 10, offset: 0 }))).toEqual([]);
    expect(await store.presence.history('a', 10)).toEqual([
      { deviceId: 'a', online: false, ts: 20, reason: 'hub restarted', transport: '' },
      { deviceId: 'a', online: true, ts: 10, reason: 'connect', transport: 'websocket' },
    ]);
    expect((await store.registry.getDevice('a'))?.lastSeen).toBe(10);
  });

  it('answers ping while open, and refuses writes after close', async () => {
    const { store } = await backend.open();
    expect(await store.ping()).toBe(true);
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.registry.createClass({ id: 'x', name: 'x', description: '', createdAt: 1, meta: {} })).rejects.toThrow(/closed/);
  });
});

describe('SqliteStore only', () => {
  it('runs in WAL mode with synchronous=NORMAL and records the schema version', async () => {
    const { store } = await BACKENDS[0]!.open();
    const db = (store as SqliteStore).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('prunes many devices in few transactions, and a device past one transaction\'s budget in several', async () => {
    const { store } = await BACKENDS[0]!.open();
    // 1,200 devices, most with nothing old; d-7 has 12,000 old readings (more than two budgets of 5,000), d-900 three.
    for (let i = 0; i < 1200; i++) await seedDevice(store, `d-${i}`);
    const old = (n: number) => Array.from({ length: n }, (_, k) => reading(k + 1, 1000 + k));
    await store.telemetry.insert('d-7', [...old(12_000), reading(20_000, 2 * DAY)], 0);
    await store.telemetry.insert('d-900', old(3), 0);
    const before = store.stats().commits;
    expect(await store.prune(DAY)).toBe(12_003);
    expect(await store.telemetry.count('d-7')).toBe(1);
    expect(await store.telemetry.count('d-900')).toBe(0);
    // A transaction per device and table would be 4,800 commits.
    expect(store.stats().commits - before).toBeLessThan(40);
  });

  it('prunes with one statement per table and 500 devices, not one per device (the pass runs during the reconnect storm)', async () => {
    const { store } = await BACKENDS[0]!.open();
    const db = (store as SqliteStore).db;
    for (let i = 0; i < 1200; i++) await seedDevice(store, `d-${i}`);
    await store.telemetry.insert('d-1100', [reading(1, 1000), reading(2, 2 * DAY)], 0);
    await store.stateEvents.insertEvent({ deviceId: 'd-3', ts: 1000, kind: 'log', severity: 'info', message: 'old', data: null, receivedAt: 1000 });
    const statement = Object.getPrototypeOf(db.prepare('SELECT 1'));
    const runs = vi.spyOn(statement, 'run');
    try {
      expect(await store.prune(DAY)).toBe(2);
      // 6 per-device tables x 3 slices of devices, the audit log, and the writer's BEGIN/SAVEPOINT/RELEASE/COMMIT per job:
      // a statement per device and table would be 7,200 DELETEs.
      expect(runs.mock.calls.length).toBeLessThan(100);
    } finally {
      runs.mockRestore();
    }
    expect(await store.telemetry.count('d-1100')).toBe(1);
    expect(await store.stateEvents.listEvents('d-3', 0, 1e13, undefined, 10)).toEqual([]);
  });

  it('copies live with the sqlite3 .backup command docs/scaling.md gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-backup-'));
    const store = new SqliteStore(join(dir, 'sitehub.db'));
    try {
      await seedDevice(store);
      await store.telemetry.insert('d1', [reading(1), reading(2)], 0);
      // While the store is open and its last writes are still in the WAL.
      execFileSync('sqlite3', ['sitehub.db', '.backup backup.db'], { cwd: dir });
      const copy = new SqliteStore(join(dir, 'backup.db'));
      expect(await copy.telemetry.count('d1')).toBe(2);
      await copy.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
