// The replay log in the SQLite store: a position for every streamed write,
// in the transaction that stores it, never reused (after pruning, after a
// reopen), and the bridge positions that only move forward.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../hub/src/iot/store/sqlite-store.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(file?: string): { store: SqliteStore; file: string } {
  if (!file) {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-stream-'));
    dirs.push(dir);
    file = join(dir, 'hub.db');
  }
  const store = new SqliteStore(file);
  stores.push(store);
  return { store, file };
}

const reading = (seq: number, ts = 1_700_000_000_000 + seq) => ({ seq, ts, values: { v: seq }, valuesJson: JSON.stringify({ v: seq }) });

describe('the replay log', () => {
  it('gives every streamed write a position and replays it as streamed', async () => {
    const { store } = open();
    await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
    await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1 });
    await store.registry.createDevice({ id: 'd1', classId: 'c', siteId: 's', name: 'd1', meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
    const t = await store.telemetry.insert('d1', [reading(1), reading(2), reading(5)], 10);
    const dup = await store.telemetry.insert('d1', [reading(1)], 11);
    const state = await store.stateEvents.applyState({ deviceId: 'd1', attrs: { mode: 'eco' }, ts: 12 }, 12);
    const event = await store.stateEvents.insertEvent({ deviceId: 'd1', ts: 13, kind: 'alarm', severity: 'info', message: '', data: null, receivedAt: 13 });
    const presence = await store.presence.record({ deviceId: 'd1', online: true, ts: 14, reason: 'connected', transport: 'websocket' });
    expect(dup.pos).toBeUndefined(); // nothing new, nothing streamed
    expect([t.pos, state.pos, event.pos, presence]).toEqual([1, 2, 3, 4]);
    const records = await store.stream.readAfter(0, 10);
    expect(records.map((r) => [r.pos, r.event, r.deviceId, r.siteId, r.classId])).toEqual([
      [1, 'telemetry', 'd1', 's', 'c'],
      [2, 'state', 'd1', 's', 'c'],
      [3, 'event', 'd1', 's', 'c'],
      [4, 'presence', 'd1', 's', 'c'],
    ]);
    expect(records[0]!.body).toEqual({ readings: [1, 2, 5].map((seq) => ({ seq, ts: 1_700_000_000_000 + seq, values: { v: seq } })) });
    expect(records[1]!.body).toEqual({ attrs: { mode: 'eco' }, ts: 12, updatedAt: 12, changed: { mode: 'eco' } });
    expect(await store.stream.readAfter(2, 1)).toHaveLength(1);
    expect(await store.stream.head()).toBe(4);
  });

  it('never reuses a position, after retention took the newest records and after a reopen', async () => {
    const { store, file } = open();
    for (let i = 0; i < 3; i++) await store.presence.record({ deviceId: 'gone', online: i % 2 === 0, ts: 1000 + i, reason: 'x', transport: 'ws' });
    expect(await store.stream.prune(2000)).toBe(3);
    expect(await store.stream.prunedThrough()).toBe(3);
    expect(await store.stream.readAfter(0, 10)).toEqual([]);
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    const { store: again } = open(file);
    expect(await again.stream.head()).toBe(3);
    expect(await again.stream.prunedThrough()).toBe(3);
    expect(await again.presence.record({ deviceId: 'gone', online: true, ts: 3000, reason: 'x', transport: 'ws' })).toBe(4);
  });

  it("keeps a bridge token's highest confirmed position", async () => {
    const { store } = open();
    expect(await store.stream.bridgePosition('b1')).toBeUndefined();
    await store.stream.confirmBridgePosition('b1', 10, 1);
    await store.stream.confirmBridgePosition('b1', 7, 2);
    await store.stream.confirmBridgePosition('b2', 3, 3);
    expect(await store.stream.bridgePosition('b1')).toBe(10);
    expect(await store.stream.bridgePosition('b2')).toBe(3);
  });
});
