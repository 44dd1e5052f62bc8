// Bridges on a cluster get the stream in position order, nothing skipped.
// Positions are given in commit order by the shared database, but each node
// publishes its own commits through Redis: here node-1's Redis traffic is
// held 300 ms by a proxy, so a record node-1 committed first reaches the
// bridge's node (node-3) after a later one of node-2. A bridge that took
// records as they came would hand on position P+1 before P, and one killed
// in between would resume after P+1 and never forward P.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy.js';
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { startMosquitto, type TestBroker } from '../helpers/mosquitto.js';
import { apiFor, readings, registerDevice, type Api } from '../iot/helpers.js';
import { sleep, waitFor } from '../agent/helpers.js';

/** How late node-1's publishes reach Redis. */
const DELAY_MS = 300;
const BRIDGE_MAIN = new URL('../../bridge/dist/main.js', import.meta.url).pathname;

let cluster: Awaited<ReturnType<typeof startHubCluster>>;
let proxy: DelayProxy | undefined;
let api: Api;
let db: pg.Client;
const sockets: ClientSocket[] = [];
const cleanups: Array<() => unknown> = [];

function connect(base: string, nsp: string, auth: Record<string, unknown>): Promise<ClientSocket> {
  const socket = ioc(base + nsp, { auth, transports: ['websocket'], forceNew: true, reconnection: false });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Stored positions of a class's records after `after`, from the database itself. */
async function storedPositions(classId: string, after: number): Promise<number[]> {
  const { rows } = await db.query('SELECT s.pos FROM stream_log s JOIN devices d ON d.id = s.device_id WHERE d.class_id = $1 AND s.pos > $2 ORDER BY s.pos', [classId, after]);
  return rows.map((r: { pos: string | number }) => Number(r.pos));
}

beforeAll(async () => {
  cluster = await startHubCluster({
    nodes: 3,
    redisUrlFor: async (id: string, url: string) => {
      if (id !== 'node-1') return url;
      proxy = await startDelayProxy(Number(new URL(url).port));
      return `redis://127.0.0.1:${proxy.port}`;
    },
  });
  api = apiFor(cluster.url, cluster.adminToken);
  db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const c of cleanups.reverse()) await c();
  await db?.end();
  await cluster?.stop();
  await proxy?.close();
}, 30_000);

type Received = { event: string; pos: number; deviceId: string; seqs: number[] };

describe('a bridge on a cluster whose nodes publish out of commit order', () => {
  it('gets every stored record, in strictly increasing positions', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const devs = [await registerDevice(api, { classId: 'order', siteId: 'order-site' }), await registerDevice(api, { classId: 'order', siteId: 'order-site' })];
    const d1 = await connect(n1!.url, '/devices/order', { deviceId: devs[0]!.deviceId, token: devs[0]!.token });
    const d2 = await connect(n2!.url, '/devices/order', { deviceId: devs[1]!.deviceId, token: devs[1]!.token });

    const { body } = await api('POST', '/api/bridge-tokens', { name: 'order' });
    const bridge = await connect(n3!.url, '/bridge', { token: body.token });
    const received: Received[] = [];
    const take = (event: string, p: { pos: number; deviceId: string; readings?: Array<{ seq: number }> }) =>
      received.push({ event, pos: p.pos, deviceId: p.deviceId, seqs: (p.readings ?? []).map((r) => r.seq) });
    for (const event of ['telemetry', 'state', 'event', 'presence', 'command', 'twin', 'alarm']) bridge.on(event, (p) => take(event, p));
    bridge.on('replay', (page: { records: Array<[string, any]> }, ack: (a: unknown) => void) => {
      for (const [event, p] of page.records) take(event, p);
      ack({ ok: true });
    });
    const answer = await bridge.emitWithAck('subscribe', { classId: 'order' });
    expect(answer).toMatchObject({ ok: true });
    const head = answer.head as number;
    // Every node has heard that someone watches.
    await sleep(1500);
    proxy!.delayMs = DELAY_MS;
    try {
      // Committed one after the other: node-1 first, node-2 second; node-2's word arrives first.
      for (let round = 0; round < 8; round++) {
        expect(await d1.timeout(5000).emitWithAck('telemetry', readings(round * 5 + 1, 5))).toMatchObject({ ok: true });
        expect(await d2.timeout(5000).emitWithAck('telemetry', readings(round * 5 + 1, 5))).toMatchObject({ ok: true });
      }
      // And concurrently, each device as fast as its acks come back.
      await Promise.all(
        [d1, d2].map(async (d) => {
          for (let b = 0; b < 20; b++) expect(await d.timeout(5000).emitWithAck('telemetry', readings(41 + b * 5, 5))).toMatchObject({ ok: true });
        }),
      );
      const stored = await storedPositions('order', head);
      expect(stored.length).toBeGreaterThanOrEqual(56);
      await waitFor(() => received.filter((r) => stored.includes(r.pos)).length >= stored.length || undefined, 10_000, 'every stored record at the bridge').catch(() => {});
      const positions = received.map((r) => r.pos);
      const outOfOrder = positions.filter((p, i) => i > 0 && p <= positions[i - 1]!).length;
      console.log(`bridge on node-3: ${received.length} records received for ${stored.length} stored; ${outOfOrder} arrived after a higher position`);
      expect(outOfOrder).toBe(0);
      expect(positions).toEqual(stored);
      for (const dev of devs) {
        const seqs = received.filter((r) => r.deviceId === dev.deviceId).flatMap((r) => r.seqs);
        expect(seqs).toEqual(Array.from({ length: 140 }, (_, i) => i + 1));
      }
      // One cursor per session: a second resume would send positions below the ones already sent.
      expect(await bridge.emitWithAck('subscribe', { classId: 'order', after: 0 })).toMatchObject({ ok: false, code: 'replay_in_progress' });
    } finally {
      proxy!.delayMs = 0;
    }
  }, 60_000);

  it('the sitehub-bridge SIGKILLed in the middle of such a stream and restarted forwards every reading', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const broker: TestBroker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-bridge-order-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const queueFile = join(dir, 'queue.db');
    const { body } = await api('POST', '/api/bridge-tokens', { name: 'order-kill' });
    const devs = [await registerDevice(api, { classId: 'killed', siteId: 'kill-site' }), await registerDevice(api, { classId: 'killed', siteId: 'kill-site' })];
    const sub = await subscriber(broker.url, 'sitehub/kill-site/killed/+/telemetry');

    let bridge = forkBridge(n3!.url, body.token, broker.url, queueFile);
    await bridge.ready;
    const d1 = await connect(n1!.url, '/devices/killed', { deviceId: devs[0]!.deviceId, token: devs[0]!.token });
    const d2 = await connect(n2!.url, '/devices/killed', { deviceId: devs[1]!.deviceId, token: devs[1]!.token });
    await sleep(1500);
    proxy!.delayMs = DELAY_MS;
    const batches = 60;
    const batch = 10;
    let restart: Promise<void> | undefined;
    let killedAt = 0;
    try {
      await Promise.all(
        [d1, d2].map(async (d, i) => {
          for (let b = 0; b < batches; b++) {
            expect(await d.timeout(10_000).emitWithAck('telemetry', readings(b * batch + 1, batch))).toMatchObject({ ok: true });
            if (i === 1 && b === 20) {
              bridge.child.kill('SIGKILL');
              killedAt = Date.now();
              restart = sleep(1500).then(async () => {
                bridge = forkBridge(n3!.url, body.token, broker.url, queueFile);
                await bridge.ready;
              });
            }
            await sleep(10);
          }
        }),
      );
      await restart;
      const total = batches * batch;
      const distinct = () => devs.map((d) => new Set(seqsOf(sub.messages, d.deviceId)).size);
      await waitFor(() => distinct().every((n) => n === total) || undefined, 20_000, 'every reading on MQTT').catch(() => {});
      const repeats = devs.map((d) => seqsOf(sub.messages, d.deviceId).length - new Set(seqsOf(sub.messages, d.deviceId)).size);
      console.log(
        `bridge SIGKILLed on node-3 mid-stream: ${distinct().join(' + ')} distinct readings of ${total} + ${total} on MQTT, ${repeats.join(' + ')} repeats (QoS 1, at least once), done ${Date.now() - killedAt} ms after the kill`,
      );
      for (const d of devs) expect(new Set(seqsOf(sub.messages, d.deviceId))).toEqual(new Set(Array.from({ length: total }, (_, i) => i + 1)));
    } finally {
      proxy!.delayMs = 0;
    }
  }, 90_000);

  it('a wake-up that Redis delivers late only delays: the bridge node reads the store head every second', async () => {
    const [n1, , n3] = cluster.nodes;
    const dev = await registerDevice(api, { classId: 'late', siteId: 'late-site' });
    const d1 = await connect(n1!.url, '/devices/late', { deviceId: dev.deviceId, token: dev.token });
    const { body } = await api('POST', '/api/bridge-tokens', { name: 'late' });
    const bridge = await connect(n3!.url, '/bridge', { token: body.token });
    const got: Array<{ pos: number; at: number }> = [];
    bridge.on('telemetry', (p: { pos: number }) => got.push({ pos: p.pos, at: Date.now() }));
    bridge.on('replay', (page: { records: Array<[string, { pos: number }]> }, ack: (a: unknown) => void) => {
      for (const [event, p] of page.records) if (event === 'telemetry') got.push({ pos: p.pos, at: Date.now() });
      ack({ ok: true });
    });
    expect(await bridge.emitWithAck('subscribe', { classId: 'late' })).toMatchObject({ ok: true });
    await sleep(1500);
    // Node-1's word of its commit reaches Redis 4 s late; nothing else is committed meanwhile.
    proxy!.delayMs = 4000;
    try {
      expect(await d1.timeout(5000).emitWithAck('telemetry', readings(1, 3))).toMatchObject({ ok: true });
      const storedAt = Date.now();
      // The wake-up itself comes 4 s after the commit: anything sooner is the poll's.
      await waitFor(() => got.length > 0 || undefined, 3500, 'the record at the bridge before the late wake-up').catch(() => {});
      console.log(`record committed on node-1 with its Redis traffic 4 s late: at the bridge on node-3 after ${got.length ? got[0]!.at - storedAt : 'more than 3500'} ms`);
      expect(got.length).toBe(1);
      expect(got[0]!.at - storedAt).toBeLessThan(3500);
    } finally {
      proxy!.delayMs = 0;
    }
  }, 30_000);
});

/** A persistent-session MQTT subscriber: every (topic, payload) it got, in arrival order. */
async function subscriber(url: string, filter: string): Promise<{ client: MqttClient; messages: Array<{ topic: string; payload: any }> }> {
  const messages: Array<{ topic: string; payload: any }> = [];
  const client = mqtt.connect(url, { protocolVersion: 5, clientId: 'order-counter-' + Math.random().toString(36).slice(2, 8), clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 200 });
  cleanups.push(() => new Promise<void>((r) => client.end(true, {}, () => r())));
  client.on('message', (topic, payload) => messages.push({ topic, payload: JSON.parse(payload.toString()) }));
  await new Promise<void>((resolve, reject) => client.once('connect', () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
  return { client, messages };
}

function seqsOf(messages: Array<{ topic: string; payload: any }>, deviceId: string): number[] {
  return messages.filter((m) => m.topic.endsWith(`/${deviceId}/telemetry`)).map((m) => m.payload.seq as number);
}

/** The `sitehub-bridge` command as a child process (so that it can be SIGKILLed), ready once /healthz answers 200. */
function forkBridge(hubUrl: string, token: string, mqttUrl: string, queueFile: string): { child: ChildProcess; ready: Promise<void> } {
  const child = fork(
    BRIDGE_MAIN,
    ['--hub-url', hubUrl, '--hub-token', token, '--mqtt-url', mqttUrl, '--bridge-id', 'order', '--queue-file', queueFile, '--mqtt-reconnect-ms', '200', '--hub-reconnect-delay-max-ms', '300', '--confirm-interval-ms', '200', '--health-port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const started = new Promise<{ healthPort: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { healthPort: number }));
    child.once('exit', (code) => reject(new Error(`bridge exited with ${code}`)));
  });
  const ready = started.then(({ healthPort }) =>
    waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => undefined))?.status === 200 || undefined, 10_000, 'the forked bridge healthy'),
  ).then(() => undefined);
  return { child, ready };
}
