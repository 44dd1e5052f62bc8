// One live session per device across the cluster: the same device connects
// through two nodes; the older session is closed wherever it is, the newer
// one survives, and presence (store, REST, /console on a third node) says
// online on the right node: the old session's late "offline" changes nothing.
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { apiFor, registerDevice, type Api } from '../iot/helpers.js';
import { sleep, waitFor } from '../agent/helpers.js';

let cluster: Awaited<ReturnType<typeof startHubCluster>>;
let api: Api;
let db: pg.Client;
const sockets: ClientSocket[] = [];

function connect(base: string, nsp: string, auth: Record<string, unknown>): ClientSocket {
  const socket = ioc(base + nsp, { auth, transports: ['websocket'], forceNew: true, reconnection: false });
  sockets.push(socket);
  return socket;
}

function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

async function presenceRow(deviceId: string): Promise<{ online: boolean; presence_node: string; presence_epoch: number }> {
  return (await db.query('SELECT online, presence_node, presence_epoch::int AS presence_epoch FROM devices WHERE id = $1', [deviceId])).rows[0];
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

describe('one session per device across nodes', () => {
  it('closes the older session on the other node; the newer survives; presence stays online on the newer node', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const { deviceId, token, classId } = await registerDevice(api, { classId: 'takeover' });
    const operator = connect(n3!.url, '/console', { token: cluster.adminToken });
    await connected(operator);
    await operator.emitWithAck('subscribe', { devices: [deviceId] });
    const seen: Array<{ online: boolean; reason: string }> = [];
    operator.on('presence', (p: { deviceId: string; online: boolean; reason: string }) => p.deviceId === deviceId && seen.push(p));

    const first = connect(n1!.url, `/devices/${classId}`, { deviceId, token });
    await connected(first);
    await waitFor(async () => (await presenceRow(deviceId)).online, 5000, 'online on node-1');
    expect((await presenceRow(deviceId)).presence_node).toBe('node-1');
    const firstGone = new Promise<string>((resolve) => first.once('disconnect', resolve));

    const second = connect(n2!.url, `/devices/${classId}`, { deviceId, token });
    await connected(second);
    // The older session, on another node, is closed by the hub.
    expect(await Promise.race([firstGone, sleep(5000).then(() => 'still connected')])).toBe('io server disconnect');
    // Its "offline" arrives after the newer "online": it must not win.
    await sleep(1000);
    expect(second.connected).toBe(true);
    const row = await presenceRow(deviceId);
    expect(row).toMatchObject({ online: true, presence_node: 'node-2' });
    expect((await api('GET', `/api/devices/${deviceId}`)).body.online).toBe(true);
    // The operator on the third node saw online twice and no offline after the last online.
    await waitFor(() => seen.filter((p) => p.online).length >= 2, 5000, 'two online events on /console');
    expect(seen[seen.length - 1]!.online).toBe(true);

    second.disconnect();
    await waitFor(async () => !(await presenceRow(deviceId)).online, 5000, 'offline after the survivor leaves');
    await waitFor(() => seen[seen.length - 1]?.online === false, 5000, 'offline on /console');
  }, 30_000);

  it('leaves exactly one session when the same device connects through two nodes at the same moment, and its commands reach that one', async () => {
    const [n1, n2] = cluster.nodes;
    const { deviceId, token, classId } = await registerDevice(api, { classId: 'takeover' });
    for (let round = 0; round < 5; round++) {
      const a = connect(n1!.url, `/devices/${classId}`, { deviceId, token });
      const b = connect(n2!.url, `/devices/${classId}`, { deviceId, token });
      const received = new Map<ClientSocket, number>();
      for (const s of [a, b]) {
        s.on('command', (_cmd: unknown, ack: (answer: unknown) => void) => {
          received.set(s, (received.get(s) ?? 0) + 1);
          ack({ ok: true });
        });
      }
      await Promise.allSettled([connected(a), connected(b)]);
      await waitFor(() => [a, b].filter((s) => s.connected).length === 1, 5000, `one survivor (round ${round})`);
      await sleep(500);
      const survivors = [a, b].filter((s) => s.connected);
      expect(survivors.length).toBe(1);
      const row = await presenceRow(deviceId);
      expect(row.online).toBe(true);
      expect(row.presence_node).toBe(survivors[0] === a ? 'node-1' : 'node-2');
      // A command asked on the third node reaches the survivor once, and its answer comes back there.
      const asker = apiFor(cluster.nodes[2]!.url, cluster.adminToken);
      const created = await asker('POST', '/api/commands', { deviceId, name: 'ping' });
      expect(created.status).toBe(201);
      const asked = Date.now();
      const final = await asker('GET', `/api/commands/${created.body.id}?waitMs=10000`);
      expect(final.body.status).toBe('acked');
      // Woken by the holder's word over the node bus, not by the end of the wait.
      expect(Date.now() - asked).toBeLessThan(5000);
      expect(received.get(survivors[0]!)).toBe(1);
      expect(received.get(survivors[0] === a ? b : a) ?? 0).toBe(0);
      survivors[0]!.disconnect();
      await waitFor(async () => !(await presenceRow(deviceId)).online, 5000, 'offline');
    }
  }, 60_000);
});
