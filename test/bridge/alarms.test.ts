// Alarms reach bridges: on /bridge (live and replayed from a position) and,
// through the bridge, on MQTT (a real Mosquitto) at .../<device>/alarm, one
// message per step of an alarm's life.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../helpers/mosquitto.js';
import { closeAll, connected, registerDevice, startHub } from '../iot/helpers.js';
import { closeBridges, mosquittoSub, parseLine, startBridge, waitUntil } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  await closeBridges();
  await closeAll();
});

const T0 = Date.now() - 60_000;

describe('alarms to bridges', () => {
  it('pushes alarm changes on /bridge, replays them from a position, and publishes them on MQTT through the bridge', async () => {
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-1', siteId: 'plant-1', classId: 'thermo' });
    await api('POST', '/api/rules', { name: 'hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30, severity: 'critical' });

    // A raw /bridge socket sees the alarm events live.
    const token = (await api('POST', '/api/bridge-tokens', { name: 'raw' })).body.token;
    const raw = connect('/bridge', { token });
    await connected(raw);
    const live: any[] = [];
    raw.on('alarm', (a: any) => live.push(a));
    const sub = await raw.timeout(2000).emitWithAck('subscribe', {});
    expect(sub).toMatchObject({ ok: true });

    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-alarm' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');
    const mqtt = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-1/alarm', 3, 15);
    await mqtt.subscribed;

    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    await device.timeout(3000).emitWithAck('telemetry', [{ seq: 1, ts: T0, values: { temp: 35 } }]);
    await waitUntil(() => live.length === 1, 5000, 'raised on /bridge');
    expect((await api('POST', `/api/alarms/${live[0].id}/ack`)).status).toBe(200);
    await device.timeout(3000).emitWithAck('telemetry', [{ seq: 2, ts: T0 + 1000, values: { temp: 20 } }]);
    await waitUntil(() => live.length === 3, 5000, 'acknowledged and cleared on /bridge');
    expect(live.map((a) => [a.deviceId, a.siteId, a.state])).toEqual([
      ['th-1', 'plant-1', 'active'],
      ['th-1', 'plant-1', 'acknowledged'],
      ['th-1', 'plant-1', 'cleared'],
    ]);

    expect(await mqtt.exited).toBe(0);
    const messages = mqtt.lines.map(parseLine);
    expect(messages.map((m) => [m.topic, m.payload.id, m.payload.state])).toEqual([
      ['sitehub/plant-1/thermo/th-1/alarm', live[0].id, 'active'],
      ['sitehub/plant-1/thermo/th-1/alarm', live[0].id, 'acknowledged'],
      ['sitehub/plant-1/thermo/th-1/alarm', live[0].id, 'cleared'],
    ]);
    expect(messages[0]!.payload).toMatchObject({ deviceId: 'th-1', severity: 'critical', source: 'rule', kind: 'above', value: 35 });
    expect(messages[2]!.payload).toMatchObject({ clearedBy: 'rule', ackedBy: 'admin' });

    // A bridge resuming from before the alarm gets the same three records again, in order.
    const again = connect('/bridge', { token });
    await connected(again);
    const replayed: any[] = [];
    again.on('alarm', (a: any) => replayed.push(a));
    again.on('replay', (page: { records: Array<[string, any]> }, ack: (a: unknown) => void) => {
      for (const [event, payload] of page.records) if (event === 'alarm') replayed.push(payload);
      ack({ ok: true });
    });
    await again.timeout(2000).emitWithAck('subscribe', { after: 0 });
    await waitUntil(() => replayed.length === 3, 5000, 'replayed alarms');
    expect(replayed.map((a) => [a.pos, a.state])).toEqual(live.map((a) => [a.pos, a.state]));
  });
});
