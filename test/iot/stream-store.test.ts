// The replay log in both stores: a position for every streamed write, in the
// transaction that stores it, never reused (after pruning, after a reopen),
// the bridge positions that only move forward, and — on PostgreSQL, where
// reads are asynchronous and several writers may share the database — the
// point where a replay joins the live stream, and positions in commit order.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../hub/src/iot/store/types.js';
import { BACKENDS, closeStores, openPostgresStore, stopPostgresCluster } from './store-backends.js';

afterEach(closeStores);
afterAll(stopPostgresCluster);

const reading = (seq: number, ts = 1_700_000_000_000 + seq) => ({ seq, ts, values: { v: seq }, valuesJson: JSON.stringify({ v: seq }) });

async function seed(store: Store, ids: string[] = ['d1']): Promise<void> {
  await store.registry.createSite({ id: 's', name: 's', meta: {}, createdAt: 1 });
  await store.registry.createClass({ id: 'c', name: 'c', description: '', createdAt: 1, meta: {} });
  for (const id of ids) {
    await store.registry.createDevice({ id, classId: 'c', siteId: 's', name: id, meta: {}, disabled: false, createdAt: 1, updatedAt: 1 }, Buffer.alloc(32));
  }
}

describe.each(BACKENDS)('the replay log on $name', (backend) => {
  it('gives every streamed write a position and replays it as streamed', async () => {
    const { store } = await backend.open();
    await seed(store);
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

  it('logs each batch of one group commit apart, with the seqs that batch stored', async () => {
    const { store } = await backend.open();
    await seed(store, ['d1', 'd2']);
    // Submitted in one event-loop turn: one group commit (one statement on PostgreSQL).
    const results = await Promise.all([
      store.telemetry.insert('d1', [reading(1), reading(2)], 20),
      store.telemetry.insert('d2', [reading(1)], 21),
      store.telemetry.insert('d1', [reading(2), reading(3)], 22), // seq 2 is the first batch's
      store.telemetry.insert('d2', [reading(1)], 23), // nothing new
    ]);
    expect(results.map((r) => [r.pos, r.stored.map((x) => x.seq), r.duplicates])).toEqual([
      [1, [1, 2], 0],
      [2, [1], 0],
      [3, [3], 1],
      [undefined, [], 1],
    ]);
    const records = await store.stream.readAfter(0, 10);
    expect(records.map((r) => [r.pos, r.deviceId, (r.body.readings as Array<{ seq: number }>).map((x) => x.seq)])).toEqual([
      [1, 'd1', [1, 2]],
      [2, 'd2', [1]],
      [3, 'd1', [3]],
    ]);
  });

  it('never reuses a position, after retention took the newest records and after a reopen', async () => {
    const opened = await backend.open();
    const store = opened.store;
    for (let i = 0; i < 3; i++) await store.presence.record({ deviceId: 'gone', online: i % 2 === 0, ts: 1000 + i, reason: 'x', transport: 'ws' });
    expect(await store.stream.prune(2000)).toBe(3);
    expect(await store.stream.prunedThrough()).toBe(3);
    expect(await store.stream.readAfter(0, 10)).toEqual([]);
    const again = await opened.reopen();
    expect(await again.stream.head()).toBe(3);
    expect(await again.stream.prunedThrough()).toBe(3);
    expect(await again.presence.record({ deviceId: 'gone', online: true, ts: 3000, reason: 'x', transport: 'ws' })).toBe(4);
  });

  it("keeps a bridge token's highest confirmed position", async () => {
    const { store } = await backend.open();
    expect(await store.stream.bridgePosition('b1')).toBeUndefined();
    await store.stream.confirmBridgePosition('b1', 10, 1);
    await store.stream.confirmBridgePosition('b1', 7, 2);
    await store.stream.confirmBridgePosition('b2', 3, 3);
    expect(await store.stream.bridgePosition('b1')).toBe(10);
    expect(await store.stream.bridgePosition('b2')).toBe(3);
  });

  it('calls onEmpty only when nothing is left, at a point no write can slip past', async () => {
    const { store } = await backend.open();
    await seed(store);
    let joined = false;
    // Records there: no join.
    await store.presence.record({ deviceId: 'd1', online: true, ts: 1, reason: 'x', transport: 'ws' });
    expect(await store.stream.readAfter(0, 10, () => (joined = true))).toHaveLength(1);
    expect(joined).toBe(false);
    // Writes keep coming while replays run one after another; each replay reads until a page is empty
    // and then "joins". Every write reported (and so published live) before a join must be at or
    // below the position that replay had read through: anything above it would be lost to the bridge.
    const reported: number[] = [];
    let writing = true;
    const writer = (async () => {
      // Bursts with short pauses, so that replays catch up (and join) many times in between.
      for (let burst = 0; burst < 40; burst++) {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.presence.record({ deviceId: 'd1', online: i % 2 === 0, ts: 10 + burst * 8 + i, reason: 'x', transport: 'ws' }).then((pos) => reported.push(pos)),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      writing = false;
    })();
    let cursor = 1;
    let joins = 0;
    const missed: number[] = [];
    while (writing) {
      joined = false;
      let reportedAtJoin = 0;
      for (;;) {
        const page = await store.stream.readAfter(cursor, 50, () => {
          joined = true;
          reportedAtJoin = reported.length;
        });
        if (page.length === 0) break;
        cursor = page[page.length - 1]!.pos;
      }
      expect(joined).toBe(true);
      joins++;
      missed.push(...reported.slice(0, reportedAtJoin).filter((pos) => pos > cursor));
      // SQLite answers without I/O: let the writer's next group run between two replays.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writer;
    expect(joins).toBeGreaterThan(5);
    expect(missed).toEqual([]);
  });
});

describe('the replay log on PostgreSQL shared by several hubs', () => {
  it('hands out positions in commit order: two stores writing at once never leave a reader a hole to skip', async () => {
    const { make } = await openPostgresStore();
    const a = await make();
    const b = await make();
    await seed(a, ['d1', 'd2']);
    const seen: number[] = [];
    let cursor = 0;
    let writing = true;
    // A reader tailing the log while both write: every position it sees must follow the previous one.
    const reader = (async () => {
      while (writing || cursor < (await a.stream.head())) {
        const page = await a.stream.readAfter(cursor, 100);
        for (const r of page) seen.push(r.pos);
        if (page.length) cursor = page[page.length - 1]!.pos;
      }
    })();
    const load = async (store: Store, deviceId: string) => {
      for (let i = 1; i <= 60; i++) {
        await Promise.all([
          store.telemetry.insert(deviceId, [reading(i)], i),
          store.stateEvents.insertEvent({ deviceId, ts: i, kind: 'log', severity: 'info', message: '', data: null, receivedAt: i }),
        ]);
      }
    };
    await Promise.all([load(a, 'd1'), load(b, 'd2')]);
    writing = false;
    await reader;
    expect(seen).toEqual(Array.from({ length: 240 }, (_, i) => i + 1));
  });
});
