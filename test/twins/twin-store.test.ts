// The twin store on both backends: edits of one twin never interleave, so of
// two updates based on the same version exactly one wins, also from two
// PostgreSQL stores (two hubs) sharing one database; history is kept and
// pruned by retention; a refused edit changes nothing.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mergePatch } from '@sitehub/protocol/iot';
import type { Store, TwinEdit } from '../../hub/src/iot/store/types.js';
import { BACKENDS, closeStores, openPostgresStore, stopPostgresCluster } from '../iot/store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

async function seed(store: Store): Promise<void> {
  await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
  await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1, meta: {} });
  await store.registry.createDevice({ id: 'd1', classId: 'c', siteId: 's', name: 'd1', meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
}

/** Sets desired `patch` if the desired version is still `basedOn`. */
const setIf = (basedOn: number, patch: Record<string, unknown>, ts: number): TwinEdit => (current) =>
  current.desiredVersion !== basedOn
    ? { code: 'twin_conflict', message: 'moved on' }
    : { twin: { ...current, desired: mergePatch(current.desired, patch), desiredVersion: basedOn + 1 }, change: { deviceId: 'd1', side: 'desired', version: basedOn + 1, patch, source: 'test', ts } };

describe.each(BACKENDS)('twins in the $name store', (backend) => {
  it('lets exactly one of two updates based on the same version through, keeps history, and prunes it', async () => {
    const { store } = await backend.open();
    await seed(store);
    const results = await Promise.all([store.twins.update('d1', setIf(0, { a: 1 }, 10), 10), store.twins.update('d1', setIf(0, { a: 2 }, 10), 10)]);
    expect(results.map((r) => r.ok).sort()).toEqual([false, true]);
    const refused = results.find((r) => !r.ok)!;
    expect(refused).toMatchObject({ ok: false, code: 'twin_conflict', twin: { desiredVersion: 1 } });
    const twin = await store.twins.get('d1');
    expect(twin).toMatchObject({ desiredVersion: 1, reportedVersion: 0 });
    expect([{ a: 1 }, { a: 2 }]).toContainEqual(twin!.desired);
    expect(await store.twins.history('d1', 10)).toHaveLength(1);
    await store.twins.update('d1', setIf(1, { b: true }, 5_000), 5_000);
    expect((await store.twins.history('d1', 10)).map((c) => c.version)).toEqual([2, 1]);
    await store.prune(1_000);
    expect((await store.twins.history('d1', 10)).map((c) => c.version)).toEqual([2]);
    // The twin itself is not history: it stays.
    expect((await store.twins.get('d1'))?.desiredVersion).toBe(2);
  });
});

describe('twins shared by two PostgreSQL stores', () => {
  it('serialises edits of one twin across hubs: 20 concurrent updates from two stores, each based on what it read, end at version 20 with no lost update', async () => {
    const { store: a, make } = await openPostgresStore();
    const b = await make();
    await seed(a);
    // Each writer retries on conflict with the version it reads, as an operator would.
    const writer = async (store: Store, key: string, n: number) => {
      for (let i = 0; i < n; i++) {
        for (let attempt = 0; attempt < 100; attempt++) {
          const current = (await store.twins.get('d1'))?.desiredVersion ?? 0;
          const r = await store.twins.update('d1', (t) => (t.desiredVersion !== current ? { code: 'twin_conflict', message: 'moved on' } : setIf(current, { [`${key}${i}`]: i }, 1)(t)), 1);
          if (r.ok) break;
        }
      }
    };
    await Promise.all([writer(a, 'a', 10), writer(b, 'b', 10)]);
    const twin = await a.twins.get('d1');
    expect(twin!.desiredVersion).toBe(20);
    expect(Object.keys(twin!.desired)).toHaveLength(20);
    expect(new Set((await b.twins.history('d1', 100)).map((c) => c.version)).size).toBe(20);
  });
});
