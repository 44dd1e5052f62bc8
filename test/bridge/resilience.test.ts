// Nothing lost: a broker restart in the middle of a QoS 1 stream of 10,000
// readings (SQLite outbox + persistent sessions), and a hub restart (the
// bridge resubscribes; MQTT commands meanwhile get an error result).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createHub } from '@sitehub/hub';
import { ADMIN_TOKEN, apiFor, closeAll, closeClients, connectClient, connected, readings, registerDevice, startHub } from '../iot/helpers.js';
import { startMosquitto, type TestBroker } from '../helpers/mosquitto.js';
import { closeBridges, mosquittoPub, mosquittoSub, parseLine, startBridge, waitUntil } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await closeBridges();
  await closeAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker(): Promise<TestBroker> {
  const b = await startMosquitto();
  cleanups.push(() => b.stop());
  return b;
}

describe('broker outage', () => {
  it('a broker restart in the middle of 10,000 QoS 1 readings loses none of them', async () => {
    const mosq = await broker();
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-9', siteId: 'plant-1', classId: 'thermo' });
    const bridge = await startBridge(api, base, mosq.url, { bridgeId: 'b-restart' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');

    // A persistent-session subscriber: the broker keeps its QoS 1 messages across the restart.
    const seqs = new Set<number>();
    let received = 0;
    const sub = mqtt.connect(mosq.url, { protocolVersion: 5, clientId: 'counter', clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 200 });
    cleanups.push(() => new Promise<void>((r) => sub.end(true, {}, () => r())));
    sub.on('message', (_t, payload) => {
      received++;
      seqs.add(JSON.parse(payload.toString()).seq);
    });
    const sessionsPresent: boolean[] = [];
    sub.on('connect', (connack) => sessionsPresent.push(connack.sessionPresent));
    await new Promise<void>((resolve, reject) => sub.once('connect', () => sub.subscribe('sitehub/plant-1/thermo/th-9/telemetry', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));

    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    const total = 10_000;
    const batch = 500;
    for (let first = 1; first <= total; first += batch) {
      expect(await device.timeout(10_000).emitWithAck('telemetry', readings(first, batch))).toMatchObject({ ok: true, stored: batch });
      if (first === 4 * batch + 1) {
        // Mid-stream: the broker goes away while the bridge is publishing.
        await mosq.kill();
        await waitUntil(() => !bridge.status().mqtt.connected, 5000, 'mqtt link down');
      }
    }
    await waitUntil(() => bridge.status().mqtt.queued > 0, 5000, 'readings queued during the outage');
    const queuedDuringOutage = bridge.status().mqtt.queued;
    await mosq.start();
    await waitUntil(() => sessionsPresent.length >= 2, 10_000, 'the subscriber reconnected');
    // Without its session the subscriber would miss whatever the bridge sent before it subscribed again.
    expect(sessionsPresent).toEqual([false, true]);
    await waitUntil(() => seqs.size === total, 60_000, () => `all ${total} seqs (have ${seqs.size}, bridge ${JSON.stringify(bridge.status().mqtt)})`);
    await waitUntil(() => bridge.status().mqtt.queued === 0, 10_000, 'outbox drained');
    expect(queuedDuringOutage).toBeGreaterThan(1000);
    expect(Math.min(...seqs)).toBe(1);
    expect(Math.max(...seqs)).toBe(total);
    expect(received).toBeGreaterThanOrEqual(total); // QoS 1: at least once
  }, 90_000);

  it('keeps the queue in SQLite across a bridge restart', async () => {
    const mosq = await broker();
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-8', siteId: 'plant-1', classId: 'thermo' });
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-bridge-q-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const queueFile = join(dir, 'queue.db');
    await mosq.kill();
    const first = await startBridge(api, base, mosq.url, { bridgeId: 'b-q', queueFile });
    await waitUntil(() => first.hub.connected, 5000, 'hub link');
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    await device.timeout(5000).emitWithAck('telemetry', readings(1, 50));
    await waitUntil(() => first.status().mqtt.queued >= 50, 5000, 'queued');
    await closeBridges();
    await mosq.start();
    const sub = mosquittoSub(mosq.port, 'sitehub/plant-1/thermo/th-8/telemetry', 50, 15);
    await sub.subscribed;
    const second = await startBridge(api, base, mosq.url, { bridgeId: 'b-q', queueFile });
    expect(await sub.exited).toBe(0);
    expect(sub.lines.map((l) => parseLine(l).payload.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await waitUntil(() => second.status().mqtt.queued === 0, 5000, 'drained');
  });

  it('a stop while the broker has frozen returns after mqttCloseTimeoutMs instead of hanging', async () => {
    const mosq = await broker();
    const { api, base } = await startHub();
    const bridge = await startBridge(api, base, mosq.url, { bridgeId: 'b-frozen', mqttCloseTimeoutMs: 500 });
    await waitUntil(() => bridge.status().mqtt.connected, 5000, 'mqtt link');
    const pid = mosq.pid();
    expect(pid).toBeTypeOf('number');
    // Frozen, not dead: the TCP connection stays up, so no PUBACK ever comes and nothing says it is gone.
    process.kill(pid!, 'SIGSTOP');
    cleanups.push(() => void process.kill(pid!, 'SIGCONT'));
    const stoppedAt = Date.now();
    await bridge.close();
    const took = Date.now() - stoppedAt;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2500);
  });

  it('a stop in the middle of draining the queue returns at once and the next start sends the rest', async () => {
    const mosq = await broker();
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-6', siteId: 'plant-1', classId: 'thermo' });
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-bridge-q-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const queueFile = join(dir, 'queue.db');
    const seqs = new Set<number>();
    const sub = mqtt.connect(mosq.url, { protocolVersion: 5, clientId: 'counter-stop', clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 200 });
    cleanups.push(() => new Promise<void>((r) => sub.end(true, {}, () => r())));
    sub.on('message', (_t, payload) => seqs.add(JSON.parse(payload.toString()).seq));
    await new Promise<void>((resolve, reject) => sub.once('connect', () => sub.subscribe('sitehub/plant-1/thermo/th-6/telemetry', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));

    // A backlog built while the broker is away, so the stop below lands mid-drain.
    await mosq.kill();
    const first = await startBridge(api, base, mosq.url, { bridgeId: 'b-stop', queueFile });
    await waitUntil(() => first.hub.connected, 5000, 'hub link');
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    const total = 3000;
    for (let seq = 1; seq <= total; seq += 500) await device.timeout(10_000).emitWithAck('telemetry', readings(seq, 500));
    await waitUntil(() => first.status().mqtt.queued >= total, 10_000, () => `all queued (have ${first.status().mqtt.queued})`);
    await mosq.start();
    await waitUntil(() => first.status().mqtt.published > 0, 10_000, 'draining started');

    // Past a bound, a publish after the stop means the bridge is looping: break out so the test fails instead of hanging.
    let publishesAfterStop = 0;
    const publish = first.mqtt.client.publish.bind(first.mqtt.client);
    (first.mqtt.client as { publish: unknown }).publish = (...args: Parameters<typeof publish>) => {
      if (++publishesAfterStop > 10_000) throw new Error('the bridge keeps publishing after close()');
      return publish(...args);
    };
    const stoppedAt = Date.now();
    await first.close();
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(publishesAfterStop).toBeLessThanOrEqual(1); // the retained offline status only
    const left = first.status().mqtt.queued;
    expect(left).toBeGreaterThan(0); // stopped mid-drain, or this test proves nothing

    const second = await startBridge(api, base, mosq.url, { bridgeId: 'b-stop', queueFile });
    await waitUntil(() => seqs.size === total, 20_000, () => `all ${total} seqs (have ${seqs.size}, bridge ${JSON.stringify(second.status().mqtt)})`);
    await waitUntil(() => second.status().mqtt.queued === 0, 5000, 'drained');
  });
});

describe('hub outage', () => {
  it('the bridge resumes after a hub restart; commands meanwhile get an error result', async () => {
    const mosq = await broker();
    const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-hub-restart-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = { dataDir, host: '127.0.0.1', adminToken: ADMIN_TOKEN, logLevel: 'silent' };
    let hub = createHub({ ...config, port: 0 });
    const { port } = await hub.listen();
    cleanups.push(() => hub.close());
    const base = `http://127.0.0.1:${port}`;
    const api = apiFor(base);
    const dev = await registerDevice(api, { deviceId: 'th-7', siteId: 'plant-1', classId: 'thermo' });
    const bridge = await startBridge(api, base, mosq.url, { bridgeId: 'b-hub' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');

    closeClients();
    await hub.close();
    await waitUntil(() => !bridge.status().hub.connected, 5000, 'hub link down');
    const errorResult = mosquittoSub(mosq.port, 'sitehub/plant-1/thermo/th-7/cmd/reboot/result', 1, 10);
    await errorResult.subscribed;
    await mosquittoPub(mosq.port, 'sitehub/plant-1/thermo/th-7/cmd/reboot', '{}');
    expect(await errorResult.exited).toBe(0);
    expect(parseLine(errorResult.lines[0]!).payload).toMatchObject({ ok: false, code: 'hub_unavailable', deviceId: 'th-7' });

    hub = createHub({ ...config, port });
    await hub.listen();
    await waitUntil(() => bridge.status().ok, 10_000, 'bridge resubscribed');
    const telemetry = mosquittoSub(mosq.port, 'sitehub/plant-1/thermo/th-7/telemetry', 2, 10);
    await telemetry.subscribed;
    const device = connectClient(base, '/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    device.on('command', (_c: unknown, ack: (a: unknown) => void) => ack({ ok: true, result: 'rebooting' }));
    await connected(device);
    await device.timeout(2000).emitWithAck('telemetry', readings(100, 2));
    expect(await telemetry.exited).toBe(0);
    expect(telemetry.lines.map((l) => parseLine(l).payload.seq)).toEqual([100, 101]);
    const ok = mosquittoSub(mosq.port, 'sitehub/plant-1/thermo/th-7/cmd/reboot/result', 1, 10);
    await ok.subscribed;
    await mosquittoPub(mosq.port, 'sitehub/plant-1/thermo/th-7/cmd/reboot', '{"force":true}');
    expect(await ok.exited).toBe(0);
    expect(parseLine(ok.lines[0]!).payload).toMatchObject({ ok: true, status: 'acked', result: 'rebooting' });
  });
});
