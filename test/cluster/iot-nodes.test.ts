// The IoT hub across nodes, beside the chaos test: a dead node's devices are
// released by whoever notices; a restarting node releases only its own
// devices (no global reset); revocations end sessions on other nodes; a
// bridge sees records of every node and resumes on another node from the
// position it confirmed on the first.
import pg from 'pg';
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { apiFor, readings, registerDevice, type Api } from '../iot/helpers.js';
import { sleep, waitFor } from '../agent/helpers.js';

let cluster: Awaited<ReturnType<typeof startHubCluster>>;
let api: Api;
let db: pg.Client;
const sockets: ClientSocket[] = [];

function connect(base: string, nsp: string, auth: Record<string, unknown>): Promise<ClientSocket> {
  const socket = ioc(base + nsp, { auth, transports: ['websocket'], forceNew: true, reconnection: false });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const gone = (socket: ClientSocket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));

async function row(deviceId: string): Promise<{ online: boolean; presence_node: string }> {
  return (await db.query('SELECT online, presence_node FROM devices WHERE id = $1', [deviceId])).rows[0];
}

beforeAll(async () => {
  cluster = await startHubCluster({ nodes: 3 });
  api = apiFor(cluster.url, cluster.adminToken);
  db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await db?.end();
  await cluster?.stop();
}, 30_000);

describe('the IoT hub on several nodes', () => {
  it("releases a SIGKILLed node's devices from another node; a restarting node releases only its own", async () => {
    const [n1, n2, n3] = cluster.nodes;
    const stay = await registerDevice(api, { classId: 'nodes' });
    const orphan = await registerDevice(api, { classId: 'nodes' });
    const operator = await connect(n1!.url, '/console', { token: cluster.adminToken });
    await operator.emitWithAck('subscribe', {});
    const offline: Array<{ deviceId: string; reason: string }> = [];
    operator.on('presence', (p: { deviceId: string; online: boolean; reason: string }) => !p.online && offline.push(p));

    await connect(n1!.url, `/devices/${stay.classId}`, { deviceId: stay.deviceId, token: stay.token });
    // No reconnection: this device stays away when its node dies.
    await connect(n2!.url, `/devices/${orphan.classId}`, { deviceId: orphan.deviceId, token: orphan.token });
    await waitFor(async () => (await row(stay.deviceId)).online && (await row(orphan.deviceId)).online, 5000, 'both online');

    const killedAt = Date.now();
    await n2!.kill('SIGKILL');
    await waitFor(async () => !(await row(orphan.deviceId)).online, 15_000, 'the dead node\'s device released');
    const releasedIn = Date.now() - killedAt;
    await waitFor(() => offline.some((p) => p.deviceId === orphan.deviceId && p.reason === 'hub node lost'), 5000, 'the console told');
    expect((await api('GET', `/api/devices/${orphan.deviceId}`)).body.online).toBe(false);
    expect((await row(stay.deviceId)).online).toBe(true);
    console.log(`a SIGKILLed node's device released by another node after ${releasedIn} ms`);

    // Restarts: node-2 (with nothing left to release) and node-3; node-1's device stays online throughout.
    await n2!.start();
    await n3!.kill('SIGTERM');
    await n3!.start();
    await sleep(1500);
    expect(await row(stay.deviceId)).toMatchObject({ online: true, presence_node: 'node-1' });
    expect(offline.filter((p) => p.deviceId === stay.deviceId)).toEqual([]);
  }, 60_000);

  it('closes a session replaced elsewhere even when the word of it was lost (the store is checked every few seconds)', async () => {
    const [n1] = cluster.nodes;
    const dev = await registerDevice(api, { classId: 'nodes' });
    const device = await connect(n1!.url, `/devices/${dev.classId}`, { deviceId: dev.deviceId, token: dev.token });
    await waitFor(async () => (await row(dev.deviceId)).online, 5000, 'online');
    const closed = gone(device);
    // A newer session claimed on a node whose announcement never arrived (Redis was away when it was sent).
    await db.query("UPDATE devices SET presence_epoch = presence_epoch + 1, presence_node = 'node-elsewhere' WHERE id = $1", [dev.deviceId]);
    expect(await Promise.race([closed, sleep(10_000).then(() => 'still connected')])).toBe('io server disconnect');
    // Its offline is not stored: the newer session holds the device.
    await sleep(500);
    expect(await row(dev.deviceId)).toMatchObject({ online: true, presence_node: 'node-elsewhere' });
  }, 30_000);

  it('ends a session on another node when its token is rotated, and a bridge when its token is disabled', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const dev = await registerDevice(api, { classId: 'nodes' });
    const device = await connect(n1!.url, `/devices/${dev.classId}`, { deviceId: dev.deviceId, token: dev.token });
    const deviceGone = gone(device);
    expect((await apiFor(n2!.url, cluster.adminToken)('POST', `/api/devices/${dev.deviceId}/rotate-token`)).status).toBe(200);
    expect(await Promise.race([deviceGone, sleep(5000).then(() => 'still connected')])).toBe('io server disconnect');

    const { body } = await api('POST', '/api/bridge-tokens', { name: 'b' });
    const bridge = await connect(n1!.url, '/bridge', { token: body.token });
    const bridgeGone = gone(bridge);
    expect((await apiFor(n3!.url, cluster.adminToken)('DELETE', `/api/bridge-tokens/${body.bridgeToken.id}`)).status).toBeLessThan(300);
    expect(await Promise.race([bridgeGone, sleep(5000).then(() => 'still connected')])).toBe('io server disconnect');
    // Said once to the other nodes, not echoed back and forth between them.
    await sleep(1000);
    const published = await Promise.all(cluster.nodes.map(async (n: { url: string }) => (await (await fetch(`${n.url}/readyz`)).json()).adapter.published as number));
    await sleep(1000);
    const later = await Promise.all(cluster.nodes.map(async (n: { url: string }) => (await (await fetch(`${n.url}/readyz`)).json()).adapter.published as number));
    // Idle nodes publish their heartbeats only: about one a second per namespace.
    for (const [i, n] of later.entries()) expect(n - published[i]!).toBeLessThan(20);
  }, 30_000);

  it('streams every node to a bridge, which resumes on another node from the position it confirmed', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const { body } = await api('POST', '/api/bridge-tokens', { name: 'resumer' });
    const devs = [await registerDevice(api, { classId: 'stream' }), await registerDevice(api, { classId: 'stream' })];
    const d1 = await connect(n1!.url, '/devices/stream', { deviceId: devs[0]!.deviceId, token: devs[0]!.token });
    const d2 = await connect(n2!.url, '/devices/stream', { deviceId: devs[1]!.deviceId, token: devs[1]!.token });

    const bridge = await connect(n3!.url, '/bridge', { token: body.token });
    const live: Array<{ deviceId: string; pos: number; readings: Array<{ seq: number }> }> = [];
    // On a cluster a bridge's stream comes in pages read from the store, in position order (stream-follower.ts).
    bridge.on('replay', (page: { records: Array<[string, (typeof live)[number]]> }, ack: (a: unknown) => void) => {
      for (const [event, p] of page.records) if (event === 'telemetry') live.push(p);
      ack({ ok: true });
    });
    expect((await bridge.emitWithAck('subscribe', { classId: 'stream' })).ok).toBe(true);
    expect((await d1.emitWithAck('telemetry', readings(1, 5))).ok).toBe(true);
    expect((await d2.emitWithAck('telemetry', readings(1, 5))).ok).toBe(true);
    // Both nodes' devices reach the bridge on the third.
    await waitFor(() => new Set(live.map((p) => p.deviceId)).size === 2, 5000, 'telemetry of both nodes');
    const confirmedPos = Math.max(...live.map((p) => p.pos));
    expect((await bridge.emitWithAck('confirm', { pos: confirmedPos, final: true })).ok).toBe(true);
    bridge.disconnect();

    // While the bridge is away, both devices send more.
    expect((await d1.emitWithAck('telemetry', readings(6, 5))).ok).toBe(true);
    expect((await d2.emitWithAck('telemetry', readings(6, 5))).ok).toBe(true);

    const again = await connect(n1!.url, '/bridge', { token: body.token });
    const replayed: Array<[string, { deviceId: string; pos: number; readings: Array<{ seq: number }> }]> = [];
    again.on('replay', (page: { records: typeof replayed }, ack: (a: unknown) => void) => {
      replayed.push(...page.records);
      ack({ ok: true });
    });
    const resumed = new Promise<{ from: number }>((resolve) => again.once('resumed', resolve));
    expect((await again.emitWithAck('subscribe', { classId: 'stream', after: 'confirmed' })).ok).toBe(true);
    expect((await resumed).from).toBe(confirmedPos);
    const seqs = replayed.filter(([event]) => event === 'telemetry').flatMap(([, p]) => p.readings.map((r) => `${p.deviceId}:${r.seq}`));
    expect(new Set(seqs)).toEqual(new Set(devs.flatMap((d) => [6, 7, 8, 9, 10].map((s) => `${d.deviceId}:${s}`))));
    expect(replayed.every(([, p]) => p.pos > confirmedPos)).toBe(true);
  }, 30_000);
});
