// Resumable streams against a real Mosquitto: the bridge picks the hub's
// stream up where it stopped (SIGKILL, a long stop with a fresh disk, a hub
// restart while it is down), and a position older than the hub's retention
// gives a gap notice on MQTT.
import { afterEach, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { createBridge, type Bridge } from '@sitehub/bridge';
import { createHub, type Hub } from '@sitehub/hub';
import { ADMIN_TOKEN, apiFor, closeAll, connectClient, connected, readings, registerDevice, startHub, type Api } from '../iot/helpers.js';
import { startMosquitto, type TestBroker } from '../helpers/mosquitto.js';
import { waitUntil } from './helpers.js';

/** How long the bridge stays stopped while 10 devices stream. */
const STOP_MS = Number(process.env.BRIDGE_STOP_MS ?? 8000);
const BRIDGE_MAIN = new URL('../../bridge/dist/main.js', import.meta.url).pathname;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await closeAll();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function broker(): Promise<TestBroker> {
  const b = await startMosquitto();
  cleanups.push(() => b.stop());
  return b;
}

async function bridgeToken(api: Api): Promise<string> {
  const created = await api('POST', '/api/bridge-tokens', { name: 'resume-' + Math.random().toString(36).slice(2, 8) });
  expect(created.status).toBe(201);
  return created.body.token;
}

/** An in-process bridge with a given token and queue file; closed after the test unless closed before. */
async function bridgeWith(hubUrl: string, token: string, mqttUrl: string, queueFile: string, extra: Record<string, unknown> = {}): Promise<Bridge> {
  const bridge = createBridge(
    { bridgeId: 'resume', hubUrl, hubToken: token, mqttUrl, queueFile, mqttReconnectMs: 200, hubReconnectDelayMaxMs: 300, confirmIntervalMs: 200, ...extra },
    { logger: pino({ level: process.env.BRIDGE_TEST_LOG ?? 'silent' }) },
  );
  await bridge.start();
  let closed = false;
  const close = bridge.close.bind(bridge);
  bridge.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  cleanups.push(() => bridge.close());
  return bridge;
}

/** A persistent-session subscriber: every (topic, payload) it got, in arrival order. */
async function subscriber(url: string, filter: string): Promise<{ client: MqttClient; messages: Array<{ topic: string; payload: any }> }> {
  const messages: Array<{ topic: string; payload: any }> = [];
  const client = mqtt.connect(url, { protocolVersion: 5, clientId: 'resume-counter-' + Math.random().toString(36).slice(2, 8), clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 200 });
  cleanups.push(() => new Promise<void>((r) => client.end(true, {}, () => r())));
  client.on('message', (topic, payload) => {
    const text = payload.toString();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* online/offline */
    }
    messages.push({ topic, payload: parsed });
  });
  await new Promise<void>((resolve, reject) => client.once('connect', () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
  return { client, messages };
}

/** Seqs of one device's telemetry, in arrival order. */
function seqsOf(messages: Array<{ topic: string; payload: any }>, deviceId: string): number[] {
  return messages.filter((m) => m.topic.endsWith(`/${deviceId}/telemetry`)).map((m) => m.payload.seq as number);
}

/** The `sitehub-bridge` command as a child process, so that it can be killed with SIGKILL. */
function forkBridge(hubUrl: string, token: string, mqttUrl: string, queueFile: string): { child: ChildProcess; ready: Promise<void> } {
  const child = fork(
    BRIDGE_MAIN,
    ['--hub-url', hubUrl, '--hub-token', token, '--mqtt-url', mqttUrl, '--bridge-id', 'killed', '--queue-file', queueFile, '--mqtt-reconnect-ms', '200', '--hub-reconnect-delay-max-ms', '300', '--confirm-interval-ms', '200', '--health-port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const started = new Promise<{ healthPort: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { healthPort: number }));
    child.once('exit', (code) => reject(new Error(`bridge exited with ${code}`)));
  });
  // Ready once /healthz says both links are up (the hub subscription included).
  const ready = started.then(({ healthPort }) =>
    waitUntil(async () => (await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => undefined))?.status === 200, 10_000, 'the forked bridge healthy'),
  );
  return { child, ready };
}

describe('resumable bridge streams', () => {
  it('SIGKILL in the middle of 5,000 readings, restarted 3 s later: every reading arrives on MQTT', async () => {
    const mosq = await broker();
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'k-1', siteId: 'plant-1', classId: 'thermo' });
    const token = await bridgeToken(api);
    const queueFile = join(tempDir('sitehub-resume-kill-'), 'queue.db');
    const sub = await subscriber(mosq.url, 'sitehub/plant-1/thermo/+/telemetry');

    let bridge = forkBridge(base, token, mosq.url, queueFile);
    await bridge.ready;
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    // The bridge is subscribed once the first batch reaches MQTT.
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(1, 50))).toMatchObject({ ok: true, stored: 50 });
    await waitUntil(() => sub.messages.length >= 50, 10_000, 'the first batch on MQTT');

    const total = 5000;
    const batch = 50;
    let killedAt = 0;
    let restart: Promise<void> | undefined;
    for (let first = batch + 1; first <= total; first += batch) {
      expect(await device.timeout(10_000).emitWithAck('telemetry', readings(first, batch))).toMatchObject({ ok: true, stored: batch });
      if (!killedAt && first > 1000) {
        bridge.child.kill('SIGKILL');
        killedAt = Date.now();
        restart = new Promise<void>((resolve) => setTimeout(resolve, 3000)).then(async () => {
          bridge = forkBridge(base, token, mosq.url, queueFile);
          await bridge.ready;
        });
      }
      // Paced, so that readings are stored before, during and after the bridge's absence.
      await new Promise((r) => setTimeout(r, 5));
    }
    await restart;
    const seqs = () => seqsOf(sub.messages, 'k-1');
    await waitUntil(() => new Set(seqs()).size === total, 60_000, () => `all ${total} seqs (have ${new Set(seqs()).size})`);
    const all = seqs();
    const duplicates = all.length - new Set(all).size;
    console.log(`SIGKILL resume: ${total} distinct readings on MQTT, ${duplicates} duplicates (QoS 1), all arrived ${Date.now() - killedAt} ms after the kill`);
    expect(Math.min(...all)).toBe(1);
    expect(Math.max(...all)).toBe(total);
  }, 120_000);

  it('stopped while 10 devices stream, started with an empty data directory: everything arrives, in seq order per device', async () => {
    const mosq = await broker();
    const { api, base } = await startHub();
    const token = await bridgeToken(api);
    const devices = await Promise.all(Array.from({ length: 10 }, (_, i) => registerDevice(api, { deviceId: `s-${i}`, siteId: 'plant-2', classId: 'meter' })));
    const sub = await subscriber(mosq.url, 'sitehub/plant-2/meter/+/telemetry');
    const first = await bridgeWith(base, token, mosq.url, join(tempDir('sitehub-resume-a-'), 'queue.db'));
    await waitUntil(() => first.status().ok, 5000, 'both links up');

    const sockets = await Promise.all(
      devices.map(async (d) => {
        const s = connectClient(base, '/devices/meter', { deviceId: d.deviceId, token: d.token });
        await connected(s);
        return s;
      }),
    );
    const next = new Map(devices.map((d) => [d.deviceId, 1]));
    const send = async (n: number) => {
      await Promise.all(
        sockets.map(async (s, i) => {
          const id = devices[i]!.deviceId;
          const seq = next.get(id)!;
          next.set(id, seq + n);
          expect(await s.timeout(10_000).emitWithAck('telemetry', readings(seq, n))).toMatchObject({ ok: true, stored: n });
        }),
      );
    };
    await send(20);
    await waitUntil(() => sub.messages.length >= 200 && first.status().mqtt.queued === 0, 10_000, 'the first readings on MQTT');
    // A stop for maintenance: the bridge's disk is then lost (the new one starts with an empty folder).
    await first.close();
    // The figure is 60 s (BRIDGE_STOP_MS=60000 runs it); by default the stop spans 8 s of
    // streaming (40 confirm intervals, 40 rounds of readings from every device): what matters is that
    // the hub, not the bridge's disk, holds the place.
    const stopEnds = Date.now() + STOP_MS;
    while (Date.now() < stopEnds) {
      await send(10);
      await new Promise((r) => setTimeout(r, 200));
    }
    const second = await bridgeWith(base, token, mosq.url, join(tempDir('sitehub-resume-b-'), 'queue.db'));
    await send(10);
    const expected = next.get('s-0')! - 1;
    await waitUntil(
      () => devices.every((d) => seqsOf(sub.messages, d.deviceId).length >= expected),
      30_000,
      () => `every device's ${expected} readings (have ${devices.map((d) => seqsOf(sub.messages, d.deviceId).length).join(',')})`,
    );
    for (const d of devices) {
      // In order and each once: the hub resumed at the position the first bridge confirmed before it stopped.
      expect(seqsOf(sub.messages, d.deviceId)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
    }
    expect(second.status().hub.gaps).toBe(0);
  }, 90_000 + STOP_MS);

  it('the hub restarted while the bridge is down: the bridge resumes from its own position', async () => {
    const mosq = await broker();
    const dataDir = tempDir('sitehub-resume-hub-');
    const config = { dataDir, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent' };
    let hub: Hub = createHub({ ...config, port: 0 });
    const { port } = await hub.listen();
    cleanups.push(() => hub.close());
    const base = `http://127.0.0.1:${port}`;
    const api = apiFor(base);
    const dev = await registerDevice(api, { deviceId: 'h-1', siteId: 'plant-3', classId: 'thermo' });
    const token = await bridgeToken(api);
    const queueFile = join(tempDir('sitehub-resume-q-'), 'queue.db');
    const sub = await subscriber(mosq.url, 'sitehub/plant-3/thermo/+/telemetry');
    const first = await bridgeWith(base, token, mosq.url, queueFile);
    await waitUntil(() => first.status().ok, 5000, 'both links up');

    const stream = async (from: number, n: number) => {
      const device = connectClient(base, '/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
      await connected(device);
      for (let seq = from; seq < from + n; seq += 100) expect(await device.timeout(10_000).emitWithAck('telemetry', readings(seq, 100))).toMatchObject({ ok: true });
      device.close();
    };
    await stream(1, 300);
    await waitUntil(() => seqsOf(sub.messages, 'h-1').length >= 300, 10_000, 'the first readings');
    await first.close();
    await stream(301, 300); // stored while the bridge is down
    await hub.close();
    hub = createHub({ ...config, port });
    await hub.listen();
    await stream(601, 300); // stored by the restarted hub, still without a bridge
    const second = await bridgeWith(base, token, mosq.url, queueFile);
    await waitUntil(() => seqsOf(sub.messages, 'h-1').length >= 900, 20_000, () => `900 readings (have ${seqsOf(sub.messages, 'h-1').length})`);
    expect(seqsOf(sub.messages, 'h-1')).toEqual(Array.from({ length: 900 }, (_, i) => i + 1));
    expect(second.status().hub.gaps).toBe(0);
  }, 60_000);

  it('a position older than the retention gives a gap notice on MQTT, then the stream goes on', async () => {
    const mosq = await broker();
    const { api, base, connect } = await startHub({ streamRetentionMs: 500, pruneIntervalMs: 200 });
    const dev = await registerDevice(api, { deviceId: 'g-1', siteId: 'plant-4', classId: 'thermo' });
    const token = await bridgeToken(api);
    const queueFile = join(tempDir('sitehub-resume-gap-'), 'queue.db');
    const sub = await subscriber(mosq.url, 'sitehub/#');
    const first = await bridgeWith(base, token, mosq.url, queueFile);
    await waitUntil(() => first.status().ok, 5000, 'both links up');
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    await device.timeout(5000).emitWithAck('telemetry', readings(1, 10));
    await waitUntil(() => seqsOf(sub.messages, 'g-1').length >= 10, 10_000, 'the first readings');
    await first.close();
    const position = first.status().hub.position!;
    expect(position).toBeGreaterThan(0);

    await device.timeout(5000).emitWithAck('telemetry', readings(11, 10));
    // Past the replay retention and at least one prune pass.
    await new Promise((r) => setTimeout(r, 1200));
    const second = await bridgeWith(base, token, mosq.url, queueFile);
    await waitUntil(() => second.status().hub.gaps === 1, 10_000, 'a gap notice');
    const gap = await (async () => {
      await waitUntil(() => sub.messages.some((m) => m.topic === 'sitehub/bridge/resume/gap'), 10_000, 'the gap on MQTT');
      return sub.messages.find((m) => m.topic === 'sitehub/bridge/resume/gap')!.payload;
    })();
    expect(gap).toMatchObject({ bridgeId: 'resume', after: position, reason: 'retention' });
    expect(gap.through).toBeGreaterThan(position);
    // Readings 11-20 were past the retention: the gap notice stands for them. The stream goes on.
    await device.timeout(5000).emitWithAck('telemetry', readings(21, 5));
    await waitUntil(() => seqsOf(sub.messages, 'g-1').includes(25), 10_000, 'live readings after the gap');
    expect(seqsOf(sub.messages, 'g-1').filter((s) => s > 10 && s <= 20)).toEqual([]);
  }, 60_000);
});
