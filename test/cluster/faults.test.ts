// Faults of a cluster on one real Redis: Redis restarted in the middle of a
// broadcast stream, and nodes that die (SIGKILL) or hang (SIGSTOP) while
// others ask them for their sockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { createHub, createRedisAdapter, Server, type Hub } from '@sitehub/hub';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { connectClient, sleep, startNode, until, type ClusterNode, type CountingClient } from './helpers.js';

const HEARTBEAT_MS = 500; // so the heartbeat window (3 beats) is 1.5 s
// An answer "within the heartbeat window": the window, plus slack for a loaded
// machine, and still well under the request timeouts (5 s and 10 s) that the
// anchor would wait for.
const WITHIN_WINDOW_MS = 3 * HEARTBEAT_MS + 2500;
let redis: TestRedis | undefined;
let nodes: ClusterNode[] = [];
let clients: CountingClient[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  for (const c of clients) c.socket.close();
  clients = [];
  for (const n of nodes) await n.stop('SIGKILL');
  nodes = [];
  for (const f of cleanups.splice(0).reverse()) await f();
  await redis?.stop();
  redis = undefined;
});

/** A hub (createHub) in this process on the cluster, for its real /readyz. */
async function startHub(url: string): Promise<Hub> {
  const reconnect = { socket: { reconnectStrategy: (n: number) => Math.min(50 * (n + 1), 500) } };
  const pub = createClient({ url, ...reconnect });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter = createRedisAdapter(pub, sub, { heartbeatInterval: HEARTBEAT_MS });
  const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-cluster-hub-'));
  const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: 'cluster-admin-token-0123456789', logLevel: 'silent' }, { adapter });
  await hub.listen();
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }), () => pub.quit().catch(() => {}), () => sub.quit().catch(() => {}), () => adapter.close(), () => hub.close());
  return hub;
}

async function readyz(hub: Hub): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${hub.port}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** The tick numbers a client got, checked to have no duplicate. */
function ticks(c: CountingClient, event: string): number[] {
  const got = (c.received.get(event) ?? []).map((args) => args[0] as number);
  expect(new Set(got).size, `${c.label} got a tick twice`).toBe(got.length);
  return got;
}

describe('cluster faults', () => {
  it('Redis restarted during a broadcast stream: nodes recover by themselves, readiness flips and returns, local clients are served throughout', async () => {
    redis = await startRedis();
    const env = { HEARTBEAT_MS: String(HEARTBEAT_MS) };
    nodes = [await startNode('sitehub', 'hub1', redis.url, env), await startNode('sitehub', 'hub2', redis.url, env), await startNode('socketio', 'sio', redis.url)];
    const hub = await startHub(redis.url);
    for (let i = 0; i < 6; i++) clients.push(await connectClient(nodes[i % 3]!, `c${i}`, []));
    const [local, onHub2, onSio] = [clients[0]!, clients[1]!, clients[2]!];
    expect((await readyz(hub)).status).toBe(200);

    await nodes[0]!.call('streamStart', { event: 'tick', everyMs: 20 });
    await until(() => onHub2.count('tick') >= 5 && onSio.count('tick') >= 5, 'the stream on every node');

    await redis.kill('SIGKILL');
    const atOutage = local.count('tick');
    await until(async () => (await readyz(hub)).status === 503, '/readyz to report the link down', 5000);
    const down = await readyz(hub);
    expect(down.body.adapter).toMatchObject({ ok: false, link: 'down' });
    const metrics = await (await fetch(`http://127.0.0.1:${hub.port}/metrics`)).text();
    expect(metrics).toMatch(/^sitehub_cluster_ok 0$/m);
    expect(metrics).toMatch(/^sitehub_cluster_link_lost_total 1$/m);
    expect((await nodes[0]!.call<any>('health')).ok).toBe(false);
    // The node's own clients keep getting the stream while Redis is away.
    await until(() => local.count('tick') >= atOutage + 20, 'local deliveries during the outage');
    const buffering = await nodes[0]!.call<any>('health');
    expect(buffering.queued).toBeGreaterThan(0);

    await sleep(300);
    await redis.start();
    await until(async () => (await readyz(hub)).status === 200, '/readyz back to 200', 10_000);
    await until(async () => (await nodes[0]!.call<any>('health')).ok && (await nodes[1]!.call<any>('health')).ok, 'both sitehub nodes up', 10_000);
    // Every node subscribed again: the count is back, and the stream reaches the other nodes.
    for (const n of nodes) await until(async () => (await n.call<number>('serverCount')) === 4, `${n.name} to count 4 nodes`, 10_000);
    const [h2, s2] = [onHub2.count('tick'), onSio.count('tick')];
    await until(() => onHub2.count('tick') >= h2 + 10 && onSio.count('tick') >= s2 + 10, 'the stream across nodes after the restart', 10_000);

    const sent = await nodes[0]!.call<number>('streamStop');
    await until(() => [local, onHub2, onSio].every((c) => ticks(c, 'tick').includes(sent)), 'the last tick everywhere');
    const health = await nodes[0]!.call<any>('health');
    expect(health).toMatchObject({ ok: true, linkLost: 1, linkRestored: 1, droppedWhileDown: 0, queued: 0 });
    expect(health.flushed).toBeGreaterThan(0);
    // Local clients: every tick, in order, none twice. Remote clients: none twice, and the stream resumed.
    expect(ticks(local, 'tick')).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    for (const c of [onHub2, onSio]) {
      const got = ticks(c, 'tick');
      // In order: Redis keeps a publisher's order, the buffer flushes in order, delivery keeps it per client.
      expect(got).toEqual([...got].sort((x, y) => x - y));
      expect(got[got.length - 1]).toBe(sent);
    }
  }, 60_000);

  it('a node killed with SIGKILL: the others answer fetchSockets within the heartbeat window and name it', async () => {
    redis = await startRedis();
    // A long request timeout, so that only the heartbeat can end the wait early.
    const env = { HEARTBEAT_MS: String(HEARTBEAT_MS), REQUESTS_TIMEOUT_MS: '10000' };
    nodes = [await startNode('sitehub', 'hub1', redis.url, env), await startNode('sitehub', 'hub2', redis.url, env), await startNode('sitehub', 'hub3', redis.url, env), await startNode('socketio', 'sio', redis.url)];
    for (let i = 0; i < 8; i++) clients.push(await connectClient(nodes[i % 4]!, `c${i}`, []));
    for (const n of nodes) await until(async () => (await n.call<number>('serverCount')) === 4, `${n.name} to count 4 nodes`);
    await sleep(HEARTBEAT_MS * 2); // every sitehub node has heard every other one
    const before = await nodes[0]!.call<{ sockets: unknown[]; missingNodes: string[] }>('fetch', {});
    expect(before.sockets).toHaveLength(8);
    expect(before.missingNodes).toEqual([]);

    const victim = nodes[2]!;
    await victim.stop('SIGKILL');
    // Asked at once by two nodes: neither waits for the request timeout, both name the dead node.
    type Fetched = { ms: number; sockets: { data: { node: string } }[]; missingNodes: string[] };
    const results = await Promise.all([nodes[0]!.call<Fetched>('fetch', {}), nodes[1]!.call<Fetched>('fetch', {})]);
    for (const result of results) {
      expect(result.missingNodes).toEqual([victim.uid]);
      expect(result.ms).toBeLessThan(WITHIN_WINDOW_MS);
      expect(result.sockets.map((s) => s.data.node).sort()).toEqual(['hub1', 'hub1', 'hub2', 'hub2', 'sio', 'sio']);
    }
    // Once its heartbeat lapsed it is no longer a member: answers come at once, complete.
    const later = await nodes[0]!.call<Fetched>('fetch', {});
    expect(later.missingNodes).toEqual([]);
    expect(later.sockets).toHaveLength(6);
    expect(later.ms).toBeLessThan(1000);
  }, 60_000);

  it('a hung node (SIGSTOP): sitehub names it within the heartbeat window where socket.io waits for its timeout and fails', async () => {
    redis = await startRedis();
    const env = { HEARTBEAT_MS: String(HEARTBEAT_MS), REQUESTS_TIMEOUT_MS: '5000' };
    nodes = [await startNode('sitehub', 'hub1', redis.url, env), await startNode('sitehub', 'hub2', redis.url, env), await startNode('socketio', 'sio', redis.url)];
    for (let i = 0; i < 6; i++) clients.push(await connectClient(nodes[i % 3]!, `c${i}`, []));
    for (const n of nodes) await until(async () => (await n.call<number>('serverCount')) === 3, `${n.name} to count 3 nodes`);
    await sleep(HEARTBEAT_MS * 2);

    const hung = nodes[1]!;
    process.kill(hung.child.pid!, 'SIGSTOP');
    cleanups.push(() => {
      if (hung.child.exitCode === null && hung.child.signalCode === null) process.kill(hung.child.pid!, 'SIGCONT');
    });
    // Redis still counts the hung node: only the heartbeat tells it is gone.
    const [ours, theirs] = await Promise.allSettled([
      nodes[0]!.call<{ ms: number; sockets: unknown[]; missingNodes: string[] }>('fetch', {}),
      nodes[2]!.call<{ ms: number }>('fetch', {}),
    ]);
    expect(ours.status).toBe('fulfilled');
    const result = (ours as PromiseFulfilledResult<{ ms: number; sockets: unknown[]; missingNodes: string[] }>).value;
    expect(result.missingNodes).toEqual([hung.uid]);
    expect(result.sockets).toHaveLength(4);
    expect(result.ms).toBeLessThan(WITHIN_WINDOW_MS);
    // The anchor: a bare rejection after its 5 s request timeout.
    expect(theirs.status).toBe('rejected');
    expect(String((theirs as PromiseRejectedResult).reason)).toMatch(/timeout reached while waiting for fetchSockets response/);
  }, 60_000);

  it('while Redis is away, broadcasts wait in a bounded buffer: the oldest beyond the bound are dropped and counted, the rest flushed on return', async () => {
    redis = await startRedis();
    const reconnect = { socket: { reconnectStrategy: (n: number) => Math.min(50 * (n + 1), 500) } };
    const pub = createClient({ url: redis.url, ...reconnect });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) c.on('error', () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    const adapter = createRedisAdapter(pub, sub, { maxBufferedMessages: 5, heartbeatInterval: HEARTBEAT_MS });
    const io = new Server({ adapter });
    cleanups.push(() => pub.quit().catch(() => {}), () => sub.quit().catch(() => {}), () => io.close());
    await until(() => adapter.health().ok, 'the link up');

    await redis.kill('SIGKILL');
    await until(() => !adapter.health().ok, 'the link down');
    for (let i = 0; i < 12; i++) io.emit('while-down', i);
    expect(adapter.health()).toMatchObject({ ok: false, queued: 5, buffered: 12, droppedWhileDown: 7 });

    await redis.start();
    await until(() => adapter.health().ok, 'the link back up', 10_000);
    expect(adapter.health()).toMatchObject({ ok: true, queued: 0, flushed: 5, droppedWhileDown: 7, linkLost: 1, linkRestored: 1 });
  }, 30_000);
});
