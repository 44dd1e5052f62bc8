// The store on its own: migrations by user_version, the group-commit writer
// (one transaction per tick, a failing job rolled back alone), retention.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../hub/src/iot/store/sqlite-store.js';
import { MIGRATIONS } from '../../hub/src/iot/store/migrations.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
function open(): { store: SqliteStore; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-store-'));
  dirs.push(dir);
  const file = join(dir, 'hub.db');
  const store = new SqliteStore(file);
  stores.push(store);
  return { store, file };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function seedDevice(store: SqliteStore, id = 'd1'): Promise<void> {
  await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
  await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1 });
  await store.registry.createDevice({ id, classId: 'c', siteId: 's', name: id, meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
}

const reading = (seq: number, ts = 1_700_000_000_000 + seq) => ({ seq, ts, values: { v: seq }, valuesJson: JSON.stringify({ v: seq }) });

describe('SqliteStore', () => {
  it('runs in WAL mode with synchronous=NORMAL and records the schema version', () => {
    const { store } = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('refuses a database from a newer hub', async () => {
    const { store, file } = open();
    await store.close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => new SqliteStore(file)).toThrow(/newer than this hub knows/);
  });

  it('commits every write of one tick in a single transaction, and settles them only after it', async () => {
    const { store } = open();
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
    const { store } = open();
    await seedDevice(store);
    const ok = store.telemetry.insert('d1', [reading(1), reading(2)], Date.now());
    // A duplicate site id violates a UNIQUE constraint inside the same group commit.
    const bad = store.registry.createSite({ id: 's', name: 'dup', meta: {}, createdAt: 1 });
    const ok2 = store.telemetry.insert('d1', [reading(3)], Date.now());
    await expect(bad).rejects.toThrow(/UNIQUE/);
    expect((await ok).stored).toHaveLength(2);
    expect((await ok2).stored).toHaveLength(1);
    expect(await store.telemetry.count('d1')).toBe(3);
  });

  it('is idempotent on (device, seq) and reports duplicates', async () => {
    const { store } = open();
    await seedDevice(store);
    expect((await store.telemetry.insert('d1', [reading(1), reading(2)], 0)).duplicates).toBe(0);
    const again = await store.telemetry.insert('d1', [reading(2), reading(3), reading(3)], 0);
    expect(again.stored.map((r) => r.seq)).toEqual([3]);
    expect(again.duplicates).toBe(2);
  });

  it('prunes history older than the cutoff and keeps the rest', async () => {
    const { store } = open();
    await seedDevice(store);
    await store.telemetry.insert('d1', [reading(1, 1000), reading(2, 2000), reading(3, 3000)], 0);
    await store.stateEvents.insertEvent({ deviceId: 'd1', ts: 1000, kind: 'log', severity: 'info', message: 'old', data: null, receivedAt: 1000 });
    await store.stateEvents.insertEvent({ deviceId: 'd1', ts: 5000, kind: 'log', severity: 'info', message: 'new', data: null, receivedAt: 5000 });
    expect(await store.prune(2500)).toBe(3);
    expect((await store.telemetry.query({ deviceId: 'd1', from: 0, to: 1e13, limit: 10 })).map((r) => r.seq)).toEqual([3]);
    expect((await store.stateEvents.listEvents('d1', 0, 1e13, undefined, 10)).map((e) => e.message)).toEqual(['new']);
  });

  it('buckets a metric into min/max/avg/count per interval', async () => {
    const { store } = open();
    await seedDevice(store);
    const rows = [1, 2, 3, 4].map((seq) => ({ seq, ts: seq * 1000, values: { t: seq * 10 }, valuesJson: JSON.stringify({ t: seq * 10 }) }));
    await store.telemetry.insert('d1', rows, 0);
    expect(await store.telemetry.aggregate('d1', 't', 0, 10_000, 2000)).toEqual([
      { ts: 0, min: 10, max: 10, avg: 10, count: 1 },
      { ts: 2000, min: 20, max: 30, avg: 25, count: 2 },
      { ts: 4000, min: 40, max: 40, avg: 40, count: 1 },
    ]);
  });

  it('refuses writes after close', async () => {
    const { store } = open();
    await store.close();
    await expect(store.registry.createClass({ id: 'x', name: 'x', description: '', createdAt: 1 })).rejects.toThrow(/closed/);
  });
});
