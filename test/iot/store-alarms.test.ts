// The alarm tables on both backends: rules kept as given, one open alarm per
// device and key (a second raise changes nothing), the life active ->
// acknowledged -> cleared with who and when, listing filters, stream records.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../hub/src/iot/store/types.js';
import { buildRule } from '../../hub/src/iot/rule-input.js';
import { BACKENDS, closeStores, stopPostgresCluster } from './store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

async function seed(store: Store): Promise<void> {
  await store.registry.createSite({ id: 's1', name: 's1', meta: {}, createdAt: 1 });
  await store.registry.createSite({ id: 's2', name: 's2', meta: {}, createdAt: 1 });
  await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1, meta: {} });
  for (const [id, site] of [['d1', 's1'], ['d2', 's2']]) {
    await store.registry.createDevice({ id: id!, classId: 'c', siteId: site!, name: id!, meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
  }
}

const raise = (deviceId: string, key: string, ts: number) => ({
  deviceId,
  ruleId: key.startsWith('rule:') ? key.slice(5) : null,
  source: key.startsWith('rule:') ? ('rule' as const) : ('device' as const),
  kind: 'above',
  key,
  severity: 'warning',
  message: `${deviceId} ${key}`,
  value: 31.5,
  ts,
});

describe.each(BACKENDS)('alarms in the store on $name', (backend) => {
  it('keeps rules, replaces one by id, deletes it', async () => {
    const { store } = await backend.open();
    const r = buildRule({ name: 'hot', scope: { kind: 'site', id: 's1' }, metric: 'temp', condition: 'above', threshold: 30, holdMs: 500, hysteresis: 1 }, undefined, 10);
    await store.alarms.putRule(r);
    expect(await store.alarms.getRule(r.id)).toEqual(r);
    const changed = { ...r, threshold: 35, updatedAt: 20 };
    await store.alarms.putRule(changed);
    expect(await store.alarms.listRules()).toEqual([changed]);
    expect(await store.alarms.deleteRule(r.id)).toBe(true);
    expect(await store.alarms.deleteRule(r.id)).toBe(false);
    expect(await store.alarms.listRules()).toEqual([]);
  });

  it('raises one open alarm per device and key, even when raised twice at once; a cleared one can be raised again', async () => {
    const { store } = await backend.open();
    await seed(store);
    const [first, second] = await Promise.all([store.alarms.raise(raise('d1', 'rule:r1', 100)), store.alarms.raise(raise('d1', 'rule:r1', 101))]);
    expect(first).toMatchObject({ deviceId: 'd1', state: 'active', value: 31.5, ts: 100, ackedBy: null });
    expect(first!.pos).toBeGreaterThan(0);
    expect(second).toBeUndefined();
    expect(await store.alarms.raise(raise('d2', 'rule:r1', 102))).toBeDefined();
    const cleared = await store.alarms.clearKey('d1', 'rule:r1', 'rule', 200);
    expect(cleared).toMatchObject({ id: first!.id, state: 'cleared', clearedBy: 'rule', clearedAt: 200 });
    expect(await store.alarms.clearKey('d1', 'rule:r1', 'rule', 201)).toBeUndefined();
    const again = await store.alarms.raise(raise('d1', 'rule:r1', 300));
    expect(again!.id).not.toBe(first!.id);
  });

  it('moves an alarm active -> acknowledged -> cleared once each, recording who and when, and streams each step', async () => {
    const { store } = await backend.open();
    await seed(store);
    const a = (await store.alarms.raise(raise('d1', 'device:door', 100)))!;
    const acked = await store.alarms.change(a.id, { state: 'acknowledged', by: 'ana', at: 150 });
    expect(acked).toMatchObject({ state: 'acknowledged', ackedBy: 'ana', ackedAt: 150, updatedAt: 150 });
    expect(await store.alarms.change(a.id, { state: 'acknowledged', by: 'bob', at: 160 })).toBeUndefined();
    const cleared = await store.alarms.change(a.id, { state: 'cleared', by: 'bob', at: 170 });
    expect(cleared).toMatchObject({ state: 'cleared', ackedBy: 'ana', clearedBy: 'bob', clearedAt: 170 });
    expect(await store.alarms.change(a.id, { state: 'cleared', by: 'bob', at: 180 })).toBeUndefined();
    expect(await store.alarms.change(9999, { state: 'cleared', by: 'bob', at: 180 })).toBeUndefined();
    const records = await store.stream.readAfter(0, 100);
    expect(records.filter((r) => r.event === 'alarm').map((r) => [r.pos, r.deviceId, r.siteId, r.body.state])).toEqual([
      [a.pos, 'd1', 's1', 'active'],
      [acked!.pos, 'd1', 's1', 'acknowledged'],
      [cleared!.pos, 'd1', 's1', 'cleared'],
    ]);
  });

  it('lists by state (open = active or acknowledged), device, site, sites, severity, rule and time, newest first', async () => {
    const { store } = await backend.open();
    await seed(store);
    const a1 = (await store.alarms.raise(raise('d1', 'rule:r1', 100)))!;
    const a2 = (await store.alarms.raise(raise('d2', 'rule:r1', 200)))!;
    const a3 = (await store.alarms.raise({ ...raise('d1', 'device:x', 300), severity: 'critical' }))!;
    await store.alarms.change(a2.id, { state: 'acknowledged', by: 'ana', at: 250 });
    await store.alarms.change(a1.id, { state: 'cleared', by: 'ana', at: 260 });
    const ids = async (f: object) => (await store.alarms.list({ limit: 10, ...f })).map((a) => a.id);
    expect(await ids({})).toEqual([a3.id, a2.id, a1.id]);
    expect(await ids({ state: 'open' })).toEqual([a3.id, a2.id]);
    expect(await ids({ state: 'cleared' })).toEqual([a1.id]);
    expect(await ids({ deviceId: 'd1' })).toEqual([a3.id, a1.id]);
    expect(await ids({ siteId: 's2' })).toEqual([a2.id]);
    expect(await ids({ sites: ['s2'] })).toEqual([a2.id]);
    expect(await ids({ sites: [] })).toEqual([]);
    expect(await ids({ severity: 'critical' })).toEqual([a3.id]);
    expect(await ids({ ruleId: 'r1' })).toEqual([a2.id, a1.id]);
    expect(await ids({ from: 150, to: 250 })).toEqual([a2.id]);
    expect(await ids({ limit: 1 })).toEqual([a3.id]);
  });

  it('prunes cleared alarms past retention and keeps open ones however old', async () => {
    const { store } = await backend.open();
    await seed(store);
    const old = (await store.alarms.raise(raise('d1', 'rule:r1', 100)))!;
    const oldOpen = (await store.alarms.raise(raise('d1', 'device:y', 100)))!;
    await store.alarms.change(old.id, { state: 'cleared', by: 'rule', at: 110 });
    await store.prune(1000);
    expect((await store.alarms.list({ limit: 10 })).map((a) => a.id)).toEqual([oldOpen.id]);
  });
});
