// What only the PostgreSQL store has: telemetry partitions made on demand and
// dropped whole by retention, migrations serialised by an advisory lock when
// several hubs start at once, a failing or slow row that fails alone inside a
// merged multi-row insert, and a database restart under an open store.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../hub/src/iot/store/postgres/migrations.js';
import { partitionOf } from '../../hub/src/iot/store/postgres/partitions.js';
import { PostgresStore } from '../../hub/src/iot/store/postgres/store.js';
import type { Store } from '../../hub/src/iot/store/types.js';
import { PG_BIN } from '../helpers/postgres.js';
import { closeStores, openPostgresStore, postgresCluster, stopPostgresCluster } from './store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

const DAY = 86_400_000;
const reading = (seq: number, ts: number) => ({ seq, ts, values: { v: seq }, valuesJson: JSON.stringify({ v: seq }) });

async function seedDevice(store: Store, id: string): Promise<void> {
  if (!(await store.registry.getSite('s'))) await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
  if (!(await store.registry.getClass('c'))) await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1, meta: {} });
  await store.registry.createDevice({ id, classId: 'c', siteId: 's', name: id, meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
}

async function sql<T extends pg.QueryResultRow = any>(url: string, text: string, args: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(text, args)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgresStore', () => {
  it('puts readings in one partition per day, made on demand, and retention drops whole partitions', async () => {
    const { store, url } = await openPostgresStore();
    await seedDevice(store, 'd1');
    const t0 = 20_000 * DAY; // 2024-10-04
    await store.telemetry.insert('d1', [reading(1, t0 + 10), reading(2, t0 + DAY + 10), reading(3, t0 + 2 * DAY + 10), reading(4, t0 + 2 * DAY + 20)], 0);
    const names = [0, 1, 2].map((d) => partitionOf(t0 + d * DAY).name);
    expect(names[0]).toBe('telemetry_20241004');
    const before = (await store.partitions.list(store.pool)).map((p) => p.name);
    expect(before).toEqual(expect.arrayContaining(names));
    const rowsIn = async (name: string) => (await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ${name}`))[0]!.n;
    expect(await rowsIn(names[2]!)).toBe('2');

    // The cutoff falls inside the third day: the first two partitions go, the third stays whole.
    expect(await store.prune(t0 + 2 * DAY + 15)).toBe(2);
    const after = (await store.partitions.list(store.pool)).map((p) => p.name);
    expect(after).not.toContain(names[0]);
    expect(after).not.toContain(names[1]);
    expect(after).toContain(names[2]);
    expect((await store.telemetry.query({ deviceId: 'd1', from: 0, to: 1e14, limit: 10 })).map((r) => r.seq)).toEqual([3, 4]);
  });

  it('migrates once when several hubs open the same empty database at once', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const stores = Array.from({ length: 5 }, () => new PostgresStore({ url }));
    try {
      const opened = await Promise.allSettled(stores.map((s) => s.open()));
      expect(opened.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(await sql(url, 'SELECT version FROM sitehub_schema')).toEqual([{ version: PG_MIGRATIONS.length }]);
      await seedDevice(stores[0]!, 'd1');
      expect((await stores[3]!.registry.getDevice('d1'))?.id).toBe('d1');
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('fails only the row at fault in a merged insert: a refused row and a row slower than the statement timeout', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const store = new PostgresStore({ url, statementTimeoutMs: 300 });
    try {
      await store.open();
      for (const id of ['d1', 'bad', 'slow', 'd2']) await seedDevice(store, id);
      await sql(
        url,
        `CREATE FUNCTION refuse_some() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.device_id = 'bad' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF;
           IF NEW.device_id = 'slow' THEN PERFORM pg_sleep(1); END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_some BEFORE INSERT ON telemetry FOR EACH ROW EXECUTE FUNCTION refuse_some();`,
      );
      const ts = Date.now();
      const before = store.stats().commits;
      const [d1, bad, slow, d2] = await Promise.allSettled(
        ['d1', 'bad', 'slow', 'd2'].map((id) => store.telemetry.insert(id, [reading(1, ts), reading(2, ts)], ts)),
      );
      expect(d1).toMatchObject({ status: 'fulfilled', value: { stored: [reading(1, ts), reading(2, ts)], duplicates: 0 } });
      expect(d2.status).toBe('fulfilled');
      expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/refused by the test trigger/);
      expect(slow.status === 'rejected' && String(slow.reason)).toMatch(/statement timeout/);
      expect(store.stats().commits - before).toBe(1);
      const counts = await sql<{ device_id: string; n: number }>(url, 'SELECT device_id, count(*)::int AS n FROM telemetry GROUP BY device_id ORDER BY device_id');
      expect(counts).toEqual([
        { device_id: 'd1', n: 2 },
        { device_id: 'd2', n: 2 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('does not queue everything behind a partition it cannot make in time: that write fails retryably, the rest of the group commits', async () => {
    const { store, url } = await openPostgresStore();
    await seedDevice(store, 'd1');
    // A long report query holds a share lock on the table; making a partition needs it exclusively.
    const report = new pg.Client(url);
    await report.connect();
    try {
      await report.query('BEGIN');
      await report.query('LOCK TABLE telemetry IN ACCESS SHARE MODE');
      const farDay = 30_000 * DAY;
      const started = Date.now();
      const [insert, site] = await Promise.allSettled([
        store.telemetry.insert('d1', [reading(1, farDay)], 0),
        store.registry.createSite({ id: 'other', name: 'other', meta: {}, createdAt: 1 }),
      ]);
      expect(insert.status === 'rejected' && String(insert.reason)).toMatch(/lock timeout/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(site.status).toBe('fulfilled');
      // Committed in the same group as the refused write.
      expect((await store.registry.getSite('other'))?.name).toBe('other');
      await report.query('COMMIT');
      expect((await store.telemetry.insert('d1', [reading(1, farDay)], 0)).stored).toHaveLength(1);
    } finally {
      await report.end();
    }
  });

  it('never opens more connections than databasePoolMax, however many reads and writes wait', async () => {
    const url = await (await postgresCluster()).createDatabase();
    const store = new PostgresStore({ url, poolMax: 3 });
    try {
      await store.open();
      await seedDevice(store, 'd1');
      const ts = Date.now();
      const work = [
        ...Array.from({ length: 60 }, () => store.registry.getDevice('d1')),
        ...Array.from({ length: 60 }, (_, i) => store.telemetry.insert('d1', [reading(i + 1, ts)], ts)),
        ...Array.from({ length: 20 }, () => store.pool.query('SELECT pg_sleep(0.05)')),
      ];
      let most = 0;
      const watch = (async () => {
        for (let i = 0; i < 20; i++) {
          const [{ n }] = await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sitehub'");
          most = Math.max(most, n);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.all([...work, watch]);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(3);
      expect(await store.telemetry.count('d1')).toBe(60);
    } finally {
      await store.close();
    }
  });

  it('survives a database restart: refuses writes while it is away, says so on ping, and reconnects by itself', async () => {
    const cluster = await postgresCluster();
    const { store } = await openPostgresStore();
    await seedDevice(store, 'd1');
    const ts = Date.now();
    await store.telemetry.insert('d1', [reading(1, ts)], ts);

    await cluster.kill('immediate');
    await expect(store.telemetry.insert('d1', [reading(2, ts)], ts)).rejects.toThrow();
    expect(await store.ping()).toBe(false);
    await expect(store.registry.getDevice('d1')).rejects.toThrow();

    await cluster.start();
    expect(await store.ping()).toBe(true);
    expect((await store.telemetry.insert('d1', [reading(2, ts), reading(1, ts)], ts))).toMatchObject({ stored: [reading(2, ts)], duplicates: 1 });
    expect(await store.telemetry.count('d1')).toBe(2);
  });

  it('restores from the pg_dump / pg_restore round trip docs/scaling.md gives, partitions and schema version included', async () => {
    const cluster = await postgresCluster();
    const { store, url } = await openPostgresStore();
    await seedDevice(store, 'd1');
    const t0 = 20_000 * DAY;
    await store.telemetry.insert('d1', [reading(1, t0), reading(2, t0 + DAY)], 0);
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-dump-'));
    try {
      const dump = join(dir, 'sitehub.dump');
      // While the store is open, as the hubs would be.
      execFileSync(join(PG_BIN, 'pg_dump'), ['--format=custom', `--file=${dump}`, url]);
      const restored = await cluster.createDatabase();
      execFileSync(join(PG_BIN, 'pg_restore'), [`--dbname=${restored}`, dump]);
      const again = new PostgresStore({ url: restored });
      try {
        await again.open();
        expect((await again.telemetry.query({ deviceId: 'd1', from: 0, to: 1e14, limit: 10 })).map((r) => r.seq)).toEqual([1, 2]);
        expect((await again.telemetry.insert('d1', [reading(2, t0 + DAY), reading(3, t0 + DAY)], 0)).duplicates).toBe(1);
        expect((await again.partitions.list(again.pool)).map((p) => p.name)).toEqual(expect.arrayContaining(['telemetry_20241004', 'telemetry_20241005']));
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
