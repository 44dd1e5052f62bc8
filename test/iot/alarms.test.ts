// Alarm rules in a running hub: readings cross a threshold, the alarm is
// raised once per crossing, pushed on /console, listed by REST, acknowledged
// and cleared (by the rule and by a person); devices' own alarm events join
// the same model; silence; the rules resume after a restart without raising
// again; the webhook retries.
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { ADMIN_TOKEN, closeAll, connected, registerDevice, startHub, type TestHub } from './helpers.js';
import { HUB_DATABASES, stopPostgresCluster } from './store-backends.js';
import { waitUntil } from '../bridge/helpers.js';

afterEach(closeAll);
afterAll(stopPostgresCluster);

const T0 = Date.now() - 60_000;
let seq = 0;
const temps = (...values: number[]) => values.map((temp) => ({ seq: ++seq, ts: T0 + seq * 1000, values: { temp } }));

/** A console socket subscribed to everything, collecting the alarm events it hears. */
async function watchAlarms(t: TestHub): Promise<{ socket: ClientSocket; heard: any[] }> {
  const socket = t.connect('/console', { token: ADMIN_TOKEN });
  await connected(socket);
  await socket.timeout(2000).emitWithAck('subscribe', {});
  const heard: any[] = [];
  socket.on('alarm', (a: any) => heard.push(a));
  return { socket, heard };
}

async function device(t: TestHub, id = 'th-1', siteId = 'site-a') {
  const dev = await registerDevice(t.api, { deviceId: id, siteId, classId: 'thermo' });
  const socket = t.connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
  await connected(socket);
  const send = async (...values: number[]) => expect(await socket.timeout(3000).emitWithAck('telemetry', temps(...values))).toMatchObject({ ok: true });
  return { ...dev, socket, send };
}

describe.each(HUB_DATABASES)('alarm rules on $name', (db) => {
  it('raises one alarm per crossing (hysteresis), pushes it on /console, and people acknowledge and clear it', async () => {
    const t = await startHub(await db.config());
    const rule = await t.api('POST', '/api/rules', { name: 'hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30, hysteresis: 2, severity: 'critical' });
    expect(rule.status).toBe(201);
    const { heard } = await watchAlarms(t);
    const d = await device(t);

    // One crossing, values staying above, then hovering within the hysteresis: one alarm.
    await d.send(25, 31, 32, 33);
    await d.send(29, 30.5);
    await waitUntil(() => heard.length === 1, 5000, 'the alarm on /console');
    expect(heard[0]).toMatchObject({ deviceId: 'th-1', siteId: 'site-a', classId: 'thermo', ruleId: rule.body.id, source: 'rule', kind: 'above', severity: 'critical', state: 'active', value: 31 });
    expect(heard[0].pos).toBeGreaterThan(0);
    // Back past the hysteresis: the rule clears it; the next crossing is a new alarm.
    await d.send(27.9);
    await d.send(31);
    await waitUntil(() => heard.length === 3, 5000, 'cleared and raised again');
    expect(heard.map((a) => [a.id, a.state, a.clearedBy])).toEqual([
      [heard[0].id, 'active', null],
      [heard[0].id, 'cleared', 'rule'],
      [heard[2].id, 'active', null],
    ]);
    expect(heard[2].id).not.toBe(heard[0].id);

    const listed = await t.api('GET', '/api/alarms?state=open');
    expect(listed.body.items.map((a: any) => a.id)).toEqual([heard[2].id]);
    const acked = await t.api('POST', `/api/alarms/${heard[2].id}/ack`);
    expect(acked.body).toMatchObject({ state: 'acknowledged', ackedBy: 'admin' });
    expect((await t.api('POST', `/api/alarms/${heard[2].id}/ack`)).status).toBe(409);
    const cleared = await t.api('POST', `/api/alarms/${heard[2].id}/clear`);
    expect(cleared.body).toMatchObject({ state: 'cleared', ackedBy: 'admin', clearedBy: 'admin' });
    expect((await t.api('POST', `/api/alarms/${heard[2].id}/clear`)).status).toBe(409);
    expect((await t.api('POST', '/api/alarms/999999/ack')).status).toBe(404);
    await waitUntil(() => heard.length === 5, 5000, 'acknowledged and cleared on /console');
    expect(heard.slice(3).map((a) => [a.state, a.ackedBy, a.clearedBy])).toEqual([
      ['acknowledged', 'admin', null],
      ['cleared', 'admin', 'admin'],
    ]);

    // Cleared by a person while still hot: the same crossing raises nothing; only a new one does.
    await d.send(35, 36);
    await d.send(20);
    await d.send(31);
    await waitUntil(() => heard.length === 6, 5000, 'a new crossing');
    expect(heard[5]).toMatchObject({ state: 'active', value: 31 });
    expect((await t.api('GET', '/api/alarms?limit=100')).body.items).toHaveLength(3);
    expect((await t.api('GET', `/api/alarms?ruleId=${rule.body.id}&state=cleared`)).body.items).toHaveLength(2);
  });
});

describe('alarm rules', () => {
  it("turns a device's own alarm events into alarms: raised once per code, cleared by the device", async () => {
    const t = await startHub();
    const { heard } = await watchAlarms(t);
    const d = await device(t);
    const event = (e: object) => d.socket.timeout(3000).emitWithAck('event', e);
    await event({ kind: 'alarm', severity: 'error', message: 'door open', data: { code: 'door' } });
    await event({ kind: 'alarm', severity: 'error', message: 'door still open', data: { code: 'door' } });
    await event({ kind: 'log', severity: 'info', message: 'booted' });
    await event({ kind: 'alarm', severity: 'info', message: 'door closed', data: { code: 'door', cleared: true } });
    await waitUntil(() => heard.length === 2, 5000, 'raised and cleared');
    expect(heard.map((a) => [a.source, a.kind, a.key, a.state, a.message, a.clearedBy])).toEqual([
      ['device', 'alarm', 'device:door', 'active', 'door open', null],
      ['device', 'alarm', 'device:door', 'cleared', 'door open', 'device'],
    ]);
    // Without data.code, the message is the key.
    await event({ kind: 'status', severity: 'warning', message: 'battery low' });
    await waitUntil(() => heard.length === 3, 5000, 'a warning event as an alarm');
    expect(heard[2]).toMatchObject({ key: 'device:battery low', severity: 'warning', state: 'active' });
  });

  it('raises a silence alarm when a device sends nothing for silenceMs and clears it on the next reading', async () => {
    const t = await startHub({ alarmSilenceCheckMs: 100 });
    const { heard } = await watchAlarms(t);
    const d = await device(t);
    const rule = await t.api('POST', '/api/rules', { name: 'quiet', scope: { kind: 'device', id: 'th-1' }, condition: 'silence', silenceMs: 1000 });
    expect(rule.status).toBe(201);
    await d.send(20);
    const sentAt = Date.now();
    await waitUntil(() => heard.length === 1, 5000, 'the silence alarm');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1000);
    expect(heard[0]).toMatchObject({ kind: 'silence', state: 'active', deviceId: 'th-1' });
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).toHaveLength(1);
    await d.send(21);
    await waitUntil(() => heard.length === 2, 5000, 'cleared by a reading');
    expect(heard[1]).toMatchObject({ id: heard[0].id, state: 'cleared', clearedBy: 'rule' });
  });

  it('holds: a value above for less than holdMs raises nothing; held long enough, once', async () => {
    const t = await startHub();
    const { heard } = await watchAlarms(t);
    const d = await device(t);
    await t.api('POST', '/api/rules', { name: 'hot', scope: { kind: 'site', id: 'site-a' }, metric: 'temp', condition: 'above', threshold: 30, holdMs: 2500 });
    // Readings are 1 s apart (their own timestamps): 31, 31, 20 is a blip; then 31 x 4 holds 3 s.
    await d.send(31, 31, 20);
    await d.send(31, 31, 31, 31);
    await waitUntil(() => heard.length === 1, 5000, 'held alarm');
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toHaveLength(1);
    expect(heard[0].state).toBe('active');
  });

  it('resumes after a restart: a value still past the threshold raises nothing new, and recovery clears the old alarm', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-alarm-restart-'));
    try {
      const first = await startHub({ dataDir });
      await first.api('POST', '/api/rules', { name: 'hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30 });
      const d1 = await device(first);
      await d1.send(35);
      await waitUntil(async () => (await first.api('GET', '/api/alarms?state=open')).body.items.length === 1, 5000, 'raised');
      d1.socket.close();
      await first.hub.close();

      const second = await startHub({ dataDir });
      const { heard } = await watchAlarms(second);
      const token = (await second.api('POST', '/api/devices/th-1/rotate-token')).body.token;
      const socket = second.connect('/devices/thermo', { deviceId: 'th-1', token });
      await connected(socket);
      await socket.timeout(3000).emitWithAck('telemetry', temps(36, 37));
      await socket.timeout(3000).emitWithAck('telemetry', temps(10));
      await waitUntil(() => heard.length >= 1, 5000, 'the clear');
      await new Promise((r) => setTimeout(r, 200));
      expect(heard.map((a) => a.state)).toEqual(['cleared']);
      expect((await second.api('GET', '/api/alarms?limit=10')).body.items).toHaveLength(1);
    } finally {
      await closeAll();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('posts each alarm change to the webhook, retrying a failed delivery', async () => {
    const received: any[] = [];
    let answers = 0;
    const server: HttpServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        answers++;
        // The first delivery fails: the hub must send the same change again.
        res.statusCode = answers === 1 ? 503 : 200;
        received.push({ status: res.statusCode, body: JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const t = await startHub({ alarmWebhookUrl: `http://127.0.0.1:${port}/hook` });
      await t.api('POST', '/api/rules', { name: 'hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30 });
      const d = await device(t);
      await d.send(31);
      await d.send(10);
      await waitUntil(() => received.filter((r) => r.status === 200).length === 2, 8000, 'two deliveries');
      expect(received.map((r) => [r.status, r.body.alarm.state])).toEqual([
        [503, 'active'],
        [200, 'active'],
        [200, 'cleared'],
      ]);
      expect(received[1].body.alarm).toMatchObject({ deviceId: 'th-1', siteId: 'site-a', classId: 'thermo', source: 'rule' });
      expect(t.hub.services.metrics.alarms.get('webhook|retried')).toBe(1);
      expect(t.hub.services.metrics.alarms.get('webhook|sent')).toBe(2);
    } finally {
      await closeAll();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses rules that cannot be judged and manages them by REST', async () => {
    const t = await startHub();
    expect((await t.api('POST', '/api/rules', { name: 'x', scope: { kind: 'class', id: 'thermo' }, condition: 'above', metric: 'temp' })).body.code).toBe('invalid_rule');
    expect((await t.api('POST', '/api/rules', { name: 'x', scope: { kind: 'class', id: 'thermo' }, condition: 'nope' })).status).toBe(400);
    const r = await t.api('POST', '/api/rules', { name: 'x', scope: { kind: 'class', id: 'thermo' }, condition: 'outside', metric: 'temp', low: 1, high: 5 });
    expect(r.body).toMatchObject({ low: 1, high: 5, threshold: null, enabled: true, holdMs: 0, hysteresis: 0, severity: 'warning' });
    const patched = await t.api('PATCH', `/api/rules/${r.body.id}`, { enabled: false, high: 9 });
    expect(patched.body).toMatchObject({ enabled: false, high: 9 });
    expect((await t.api('GET', '/api/rules')).body.items).toHaveLength(1);
    expect((await t.api('DELETE', `/api/rules/${r.body.id}`)).status).toBe(204);
    expect((await t.api('GET', `/api/rules/${r.body.id}`)).status).toBe(404);
  });
});
