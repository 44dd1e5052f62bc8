// A mixed cluster on one real Redis: two sitehub nodes (createRedisAdapter)
// and one socket.io 4.8.4 node (@socket.io/redis-adapter), each in its own
// process, with clients spread over the three. Every cross-node feature is
// driven from each kind of node, and every delivery is counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { Emitter } from '@socket.io/redis-emitter';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { connectClient, sleep, startNode, until, type ClusterNode, type CountingClient } from './helpers.js';

let redis: TestRedis;
let nodes: ClusterNode[];
let clients: CountingClient[];
let emitterClient: ReturnType<typeof createClient>;

// Client i sits on node i % 3, in room 'a' (i < 6) or 'b', and in 'even' when i is even.
const roomsOf = (i: number) => [i < 6 ? 'a' : 'b', ...(i % 2 === 0 ? ['even'] : [])];
const labels = (pred: (c: CountingClient, i: number) => boolean) => clients.filter(pred).map((c) => c.label).sort();

/** Waits until exactly `expected` clients got `event` once, then a little longer to see that nobody got it twice or by mistake. */
async function expectDelivered(event: string, expected: string[]) {
  await until(() => expected.every((l) => clients.find((c) => c.label === l)!.count(event) >= 1), `${event} to ${expected.join(',')}`);
  await sleep(150);
  const got = clients.filter((c) => c.count(event) > 0).map((c) => `${c.label}x${c.count(event)}`).sort();
  expect(got).toEqual(expected.map((l) => `${l}x1`).sort());
}

beforeAll(async () => {
  redis = await startRedis();
  nodes = [
    await startNode('sitehub', 'hub1', redis.url),
    await startNode('sitehub', 'hub2', redis.url),
    await startNode('socketio', 'sio', redis.url),
  ];
  clients = [];
  for (let i = 0; i < 12; i++) clients.push(await connectClient(nodes[i % 3]!, `c${i}`, roomsOf(i)));
  emitterClient = createClient({ url: redis.url });
  await emitterClient.connect();
  // Every node counts three subscribers on its request channel before the tests start.
  for (const node of nodes) await until(async () => (await node.call<number>('serverCount')) === 3, `${node.name} to see 3 nodes`);
}, 30_000);

afterAll(async () => {
  for (const c of clients ?? []) c.socket.close();
  await emitterClient?.quit().catch(() => {});
  for (const node of nodes ?? []) await node.stop();
  await redis?.stop();
});

describe('mixed cluster: 2 sitehub nodes + 1 socket.io node on one Redis', () => {
  it('room broadcasts reach the room on every node, exactly once, from each kind of node', async () => {
    await nodes[0]!.call('broadcast', { rooms: ['a'], event: 'r1', args: [1] });
    await expectDelivered('r1', labels((_, i) => i < 6));
    await nodes[2]!.call('broadcast', { rooms: ['b'], event: 'r2', args: ['x'] });
    await expectDelivered('r2', labels((_, i) => i >= 6));
    // Two rooms: a client in both is reached once.
    await nodes[1]!.call('broadcast', { rooms: ['a', 'even'], event: 'r3' });
    await expectDelivered('r3', labels((_, i) => i < 6 || i % 2 === 0));
    // Binary crosses the cluster as binary, both ways.
    for (const node of [nodes[2]!, nodes[0]!]) {
      await node.call('broadcast', { rooms: ['even'], event: `bin-${node.name}`, args: [{ n: 1 }], binary: true });
      await expectDelivered(`bin-${node.name}`, labels((_, i) => i % 2 === 0));
      for (const c of clients.filter((_, i) => i % 2 === 0)) {
        const [obj, bin] = c.received.get(`bin-${node.name}`)![0]!;
        expect(obj).toEqual({ n: 1 });
        expect([...new Uint8Array(bin as ArrayBuffer)]).toEqual([1, 2, 3]);
      }
    }
  });

  it('a burst of broadcasts arrives complete, once each and in order, on every node', async () => {
    const count = 60;
    for (const node of [nodes[0]!, nodes[2]!]) {
      const event = `burst-${node.name}`;
      await node.call('burst', { event, count });
      const expectedFor = (i: number) => Array.from({ length: count }, (_, n) => n).filter((n) => n % 3 === 0 || (n % 3 === 1 && i % 2 === 0) || (n % 3 === 2 && i >= 6));
      await until(() => clients.every((c, i) => c.count(event) >= expectedFor(i).length), event);
      await sleep(150);
      clients.forEach((c, i) => expect(c.received.get(event)!.map((args) => args[0])).toEqual(expectedFor(i)));
    }
  });

  it('except leaves out the excepted rooms on every node', async () => {
    await nodes[0]!.call('broadcast', { except: ['a'], event: 'e1' });
    await expectDelivered('e1', labels((_, i) => i >= 6));
    await nodes[2]!.call('broadcast', { rooms: ['b'], except: ['even'], event: 'e2' });
    await expectDelivered('e2', labels((_, i) => i >= 6 && i % 2 === 1));
    await nodes[1]!.call('broadcast', { rooms: ['a'], except: ['even'], event: 'e3' });
    await expectDelivered('e3', labels((_, i) => i < 6 && i % 2 === 1));
  });

  it('a broadcast with ack collects one reply from each client of every node', async () => {
    for (const node of nodes) {
      const all = await node.call<{ err: string | null; replies: string[] }>('broadcastAck', {});
      expect(all.err).toBeNull();
      expect([...all.replies].sort()).toEqual(labels(() => true));
      const roomB = await node.call<{ err: string | null; replies: string[] }>('broadcastAck', { rooms: ['b'] });
      expect(roomB.err).toBeNull();
      expect([...roomB.replies].sort()).toEqual(labels((_, i) => i >= 6));
    }
  });

  it('fetchSockets returns the sockets of every node with their rooms and data', async () => {
    for (const node of nodes) {
      const { sockets, missingNodes } = await node.call<{ sockets: { id: string; rooms: string[]; data: { label: string } }[]; missingNodes: string[] }>('fetch', { rooms: ['even'] });
      expect(missingNodes).toEqual([]);
      expect(sockets.map((s) => s.data.label).sort()).toEqual(labels((_, i) => i % 2 === 0));
      for (const s of sockets) expect(s.rooms).toContain('even');
    }
  });

  it('allSockets and allRooms gather every node (the SOCKETS and ALL_ROOMS requests)', async () => {
    const ids = (await nodes[0]!.call<{ sockets: { id: string; data: { label: string; node: string } }[] }>('fetch', { rooms: ['b'] })).sockets;
    for (const node of nodes) {
      // @socket.io/redis-adapter answers SOCKETS requests but never sends one: its allSockets() is local.
      const expected = node.kind === 'sitehub' ? ids : ids.filter((s) => s.data.node === node.name);
      expect((await node.call<string[]>('allSockets', { rooms: ['b'] })).sort()).toEqual(expected.map((s) => s.id).sort());
      const rooms = await node.call<string[]>('allRooms');
      for (const room of ['a', 'b', 'even', ...ids.map((s) => s.id)]) expect(rooms).toContain(room);
    }
  });

  it('a remote socket from fetchSockets can be emitted to across nodes', async () => {
    expect(await nodes[0]!.call('remoteEmit', { label: 'c2', event: 'direct' })).toBe(true); // c2 is on the socket.io node
    expect(await nodes[2]!.call('remoteEmit', { label: 'c1', event: 'direct' })).toBe(true); // c1 is on hub2
    await expectDelivered('direct', ['c1', 'c2']);
  });

  it('serverSideEmit reaches the other nodes, without and with ack', async () => {
    await nodes[0]!.call('serverSideEmit', { args: ['from-hub1'] });
    // 'received' hands over what a node got since the last call: collect per node.
    const got = new Map<string, unknown[][]>(nodes.map((n) => [n.name, []]));
    const collect = async () => {
      for (const n of nodes) got.get(n.name)!.push(...(await n.call<unknown[][]>('received')));
    };
    await until(async () => (await collect(), got.get('hub2')!.length >= 1 && got.get('sio')!.length >= 1), 'serverSideEmit');
    await sleep(150);
    await collect();
    expect(Object.fromEntries(got)).toEqual({ hub1: [], hub2: [['from-hub1']], sio: [['from-hub1']] });

    const fromHub = await nodes[0]!.call<{ err?: string; replies: string[] }>('serverSideEmitAck', { args: ['q1'] });
    expect(fromHub.err).toBeUndefined();
    expect(fromHub.replies.sort()).toEqual(['hub2:q1', 'sio:q1']);
    const fromSio = await nodes[2]!.call<{ err?: string; replies: string[] }>('serverSideEmitAck', { args: ['q2'] });
    expect(fromSio.err).toBeUndefined();
    expect(fromSio.replies.sort()).toEqual(['hub1:q2', 'hub2:q2']);
    for (const n of nodes) await n.call('received');
  });

  it('socketsJoin and socketsLeave act on every node', async () => {
    await nodes[2]!.call('join', { target: 'b', rooms: ['late'] });
    await until(async () => (await nodes[0]!.call<{ sockets: unknown[] }>('fetch', { rooms: ['late'] })).sockets.length === 6, 'join on every node');
    await nodes[0]!.call('broadcast', { rooms: ['late'], event: 'j1' });
    await expectDelivered('j1', labels((_, i) => i >= 6));

    await nodes[1]!.call('leave', { target: 'even', rooms: ['late'] });
    await until(async () => (await nodes[2]!.call<{ sockets: unknown[] }>('fetch', { rooms: ['late'] })).sockets.length === 3, 'leave on every node');
    await nodes[2]!.call('broadcast', { rooms: ['late'], event: 'j2' });
    await expectDelivered('j2', labels((_, i) => i >= 6 && i % 2 === 1));
  });

  it('@socket.io/redis-emitter reaches the rooms of sitehub nodes', async () => {
    const emitter = new Emitter(emitterClient);
    emitter.to('a').emit('from-emitter', 42);
    await expectDelivered('from-emitter', labels((_, i) => i < 6));
    emitter.except('even').emit('from-emitter-2');
    await expectDelivered('from-emitter-2', labels((_, i) => i % 2 === 1));
    // Its join requests and server-side emits too.
    emitter.in('b').socketsJoin('emitter-room');
    await until(async () => (await nodes[0]!.call<{ sockets: unknown[] }>('fetch', { rooms: ['emitter-room'] })).sockets.length === 6, 'emitter join');
    emitter.serverSideEmit('hello', 'from-emitter');
    const got = new Map<string, unknown[][]>(nodes.map((n) => [n.name, []]));
    await until(async () => {
      for (const n of nodes) got.get(n.name)!.push(...(await n.call<unknown[][]>('received')));
      return nodes.every((n) => got.get(n.name)!.length >= 1);
    }, 'emitter serverSideEmit on every node');
    for (const n of nodes) expect(got.get(n.name)).toEqual([['from-emitter']]);
  });

  it('disconnectSockets disconnects the targeted sockets on every node', async () => {
    const gone = clients.filter((_, i) => i < 6 && i % 2 === 1);
    const closed = gone.map((c) => new Promise((r) => c.socket.once('disconnect', r)));
    await nodes[0]!.call('join', { target: 'a', rooms: ['doomed'] });
    await nodes[0]!.call('leave', { target: 'even', rooms: ['doomed'] });
    await until(async () => (await nodes[1]!.call<{ sockets: unknown[] }>('fetch', { rooms: ['doomed'] })).sockets.length === 3, 'doomed room');
    await nodes[1]!.call('disconnect', { target: 'doomed' });
    await Promise.all(closed);
    const counts = await Promise.all(nodes.map((n) => n.call<number>('localCount')));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(9);
    for (const c of clients) expect(c.socket.connected).toBe(!gone.includes(c));
  });
});
