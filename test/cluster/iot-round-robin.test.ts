// Polling without affinity: HAProxy in plain round robin (no cookie), devices
// on HTTP long-polling only, without a cookie jar. Each request lands on any
// node; a node forwards one for a session another node holds (the session id
// names the node). Every device connects, streams acked telemetry and
// answers a command, and the nodes count what they forwarded.
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { apiFor, readings, registerDevice, type Api } from '../iot/helpers.js';
import { waitFor } from '../agent/helpers.js';

let cluster: Awaited<ReturnType<typeof startHubCluster>>;
let api: Api;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  cluster = await startHubCluster({ nodes: 3, affinity: false });
  api = apiFor(cluster.url, cluster.adminToken);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await cluster?.stop();
}, 30_000);

async function forwarded(): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    total += Number(/sitehub_events_out_total\{namespace="polling",event="forwarded"\} (\d+)/.exec(text)?.[1] ?? 0);
  }
  return total;
}

describe('long-polling through a round-robin balancer without affinity', () => {
  it('connects, streams acked telemetry and answers commands', async () => {
    const devices = [];
    for (let i = 0; i < 9; i++) devices.push(await registerDevice(api, { classId: 'polling' }));
    const commands = new Map<string, number>();
    for (const { deviceId, token, classId } of devices) {
      const socket = ioc(`${cluster.url}/devices/${classId}`, { auth: { deviceId, token }, transports: ['polling'], forceNew: true, reconnection: false });
      socket.on('command', (cmd: { id: string }, ack: (a: unknown) => void) => {
        commands.set(cmd.id, (commands.get(cmd.id) ?? 0) + 1);
        ack({ ok: true });
      });
      sockets.push(socket);
    }
    await Promise.all(sockets.map((s) => new Promise<unknown>((resolve, reject) => (s.connected ? resolve(null) : (s.once('connect', () => resolve(null)), s.once('connect_error', reject))))));
    for (let batch = 0; batch < 5; batch++) {
      const acks = await Promise.all(sockets.map((s) => s.timeout(10_000).emitWithAck('telemetry', readings(batch * 10 + 1, 10))));
      expect(acks.every((a) => a.ok)).toBe(true);
    }
    const ids: string[] = [];
    for (const { deviceId } of devices) ids.push((await api('POST', '/api/commands', { deviceId, name: 'ping' })).body.id as string);
    await waitFor(async () => (await Promise.all(ids.map((id) => api('GET', `/api/commands/${id}`)))).every((r) => r.body.status === 'acked'), 10_000, 'commands acked');
    expect(ids.map((id) => commands.get(id))).toEqual(ids.map(() => 1));
    // Still the same sessions: no client had to start over.
    expect(sockets.every((s) => s.connected)).toBe(true);
    expect(await forwarded()).toBeGreaterThan(20);
  }, 60_000);
});
