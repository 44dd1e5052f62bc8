// The store's part in running several hub nodes, on both backends: session
// epochs order presence (a late change of an older session is not stored),
// commands are claimed only by the device's current session, a node's
// devices are released by one statement, heartbeats tell a new node from a
// known one, and pending commands are found by the node holding the device.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Command, Store } from '../../hub/src/iot/store/types.js';
import { BACKENDS, closeStores, stopPostgresCluster } from './store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

async function seed(store: Store, ...ids: string[]): Promise<void> {
  await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
  await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1, meta: {} });
  for (const id of ids) await store.registry.createDevice({ id, classId: 'c', siteId: 's', name: id, meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
}

const change = (deviceId: string, online: boolean, ts: number, reason = 'r') => ({ deviceId, online, ts, reason, transport: 'websocket' });

function command(id: string, deviceId: string, now: number): Command {
  return { id, deviceId, name: 'ping', params: null, status: 'pending', attempts: 0, createdAt: now, updatedAt: now, expiresAt: now + 60_000, result: null, error: null, source: 'test' };
}

describe.each(BACKENDS)('cluster support of the store on $name', (backend) => {
  it('orders sessions by epoch: a late offline of the older session changes nothing', async () => {
    const { store } = await backend.open();
    await seed(store, 'd1');
    const older = await store.presence.claim(change('d1', true, 10), 'node-a');
    const newer = await store.presence.claim(change('d1', true, 20), 'node-b');
    expect(newer.epoch).toBe(older.epoch + 1);
    expect(newer.pos).toBeGreaterThan(older.pos);
    expect(await store.presence.recordIfCurrent(change('d1', false, 30, 'late'), older.epoch)).toBeUndefined();
    expect(await store.registry.getDevice('d1')).toMatchObject({ online: true, lastSeen: 20 });
    expect((await store.presence.history('d1', 10)).map((c) => c.reason)).not.toContain('late');
    expect(await store.presence.recordIfCurrent(change('d1', false, 40, 'left'), newer.epoch)).toBeGreaterThan(newer.pos);
    expect(await store.registry.getDevice('d1')).toMatchObject({ online: false, lastSeen: 40 });
  });

  it("lets only the device's current session claim a command, up to the attempts allowed", async () => {
    const { store } = await backend.open();
    await seed(store, 'd1');
    const old = await store.presence.claim(change('d1', true, 10), 'node-a');
    const now = Date.now();
    await store.commands.create(command('c1', 'd1', now));
    const current = await store.presence.claim(change('d1', true, 20), 'node-b');
    // The older session, on a node not yet told, loses.
    expect(await store.commands.claim('c1', old.epoch, 3, now)).toBeUndefined();
    const first = await store.commands.claim('c1', current.epoch, 3, now);
    expect(first).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await store.commands.claim('c1', current.epoch, 3, now))!.attempts).toBe(2);
    expect((await store.commands.claim('c1', current.epoch, 3, now))!.attempts).toBe(3);
    expect(await store.commands.claim('c1', current.epoch, 3, now)).toBeUndefined();
    // Final, expired: nobody claims it.
    await store.commands.create(command('c2', 'd1', now));
    await store.commands.update('c2', { status: 'acked', result: null }, now);
    expect(await store.commands.claim('c2', current.epoch, 3, now)).toBeUndefined();
    expect(await store.commands.claim('c1', current.epoch, 9, now + 120_000)).toBeUndefined();
  });

  it("releases a node's online devices once, finds pending commands of a node's devices, and counts heartbeats", async () => {
    const { store } = await backend.open();
    await seed(store, 'd1', 'd2', 'd3');
    await store.presence.claim(change('d1', true, 10), 'node-a');
    await store.presence.claim(change('d2', true, 10), 'node-a');
    const d3 = await store.presence.claim(change('d3', true, 10), 'node-b');
    const now = Date.now();
    await store.commands.create(command('c1', 'd1', now));
    await store.commands.create(command('c3', 'd3', now));
    expect((await store.commands.pendingOnNode('node-a', now, 10)).map((c) => c.id)).toEqual(['c1']);
    expect((await store.commands.pendingOnNode('node-b', now, 10)).map((c) => c.id)).toEqual(['c3']);
    await store.commands.claim('c3', d3.epoch, 3, now);
    expect(await store.commands.pendingOnNode('node-b', now, 10)).toEqual([]);

    const released = await store.presence.releaseNode('node-a', 50, 'hub node lost');
    expect(released.map((r) => r.deviceId).sort()).toEqual(['d1', 'd2']);
    expect(await store.presence.releaseNode('node-a', 60, 'hub node lost')).toEqual([]);
    expect((await store.registry.getDevice('d1'))!.online).toBe(false);
    expect((await store.registry.getDevice('d3'))!.online).toBe(true);
    expect(await store.commands.pendingOnNode('node-a', now, 10)).toEqual([]);

    expect(await store.presence.heartbeat('node-a', 1)).toBe(false);
    expect(await store.presence.heartbeat('node-a', 2)).toBe(true);
    expect(await store.presence.heartbeat('node-b', 2)).toBe(false);
    expect((await store.presence.nodes()).sort((a, b) => a.node.localeCompare(b.node))).toEqual([
      { node: 'node-a', beats: 2, at: 2 },
      { node: 'node-b', beats: 1, at: 2 },
    ]);
    await store.presence.forgetNode('node-a');
    expect(await store.presence.heartbeat('node-a', 3)).toBe(false);
  });
});
