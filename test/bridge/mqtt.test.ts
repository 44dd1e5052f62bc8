// The bridge against a real Mosquitto 2 and an in-process hub: telemetry and
// retained status seen by mosquitto_sub, the bridge's birth, commands from
// mosquitto_pub and from an MQTT 5 client with response topic + correlation data.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { closeAll, connected, readings, registerDevice, startHub } from '../iot/helpers.js';
import { startMosquitto, type TestBroker } from '../helpers/mosquitto.js';
import { closeBridges, mosquittoPub, mosquittoSub, parseLine, startBridge, waitUntil } from './helpers.js';

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

describe('hub -> MQTT', () => {
  it('publishes telemetry per reading, retained state and status, and its own retained birth', async () => {
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-1', siteId: 'plant-1', classId: 'thermo' });
    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-tele' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');

    const sub = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-1/telemetry', 3, 10);
    await sub.subscribed;
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(device);
    expect(await device.timeout(2000).emitWithAck('telemetry', readings(1, 3))).toMatchObject({ ok: true, stored: 3 });
    expect(await sub.exited).toBe(0);
    const got = sub.lines.map(parseLine);
    expect(got.map((m) => m.topic)).toEqual(Array(3).fill('sitehub/plant-1/thermo/th-1/telemetry'));
    expect(got.map((m) => m.payload.seq)).toEqual([1, 2, 3]);
    expect(got[0]!.payload).toMatchObject({ deviceId: 'th-1', seq: 1, ts: readings(1, 1)[0]!.ts, values: { temp: 21, rh: 40 } });

    await device.timeout(2000).emitWithAck('state', { mode: 'eco' });
    // Late subscribers get the retained status, state and the bridge's birth.
    await waitUntil(() => bridge.status().mqtt.queued === 0, 5000, 'queue drained');
    const status = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-1/status', 1, 5);
    const state = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-1/state', 1, 5);
    const birth = mosquittoSub(broker.port, 'sitehub/bridge/b-tele/status', 1, 5);
    expect(await status.exited).toBe(0);
    expect(parseLine(status.lines[0]!).payload).toMatchObject({ deviceId: 'th-1', online: true, transport: 'websocket' });
    expect(await state.exited).toBe(0);
    expect(parseLine(state.lines[0]!).payload).toMatchObject({ attrs: { mode: 'eco' }, changed: { mode: 'eco' } });
    expect(await birth.exited).toBe(0);
    expect(birth.lines).toEqual(['sitehub/bridge/b-tele/status online']);

    device.close();
    await waitUntil(async () => {
      const late = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-1/status', 1, 2);
      await late.exited;
      return late.lines.length === 1 && parseLine(late.lines[0]!).payload.online === false;
    }, 8000, 'retained offline status');

    // A clean stop leaves a retained offline.
    await closeBridges();
    const after = mosquittoSub(broker.port, 'sitehub/bridge/b-tele/status', 1, 5);
    expect(await after.exited).toBe(0);
    expect(after.lines).toEqual(['sitehub/bridge/b-tele/status offline']);
  });

  it('a lost connection does not let the old will overwrite the new birth', async () => {
    const { api, base } = await startHub();
    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-will', mqttWillDelaySec: 1, mqttKeepaliveSec: 1 });
    await waitUntil(() => bridge.mqtt.connected, 5000, 'mqtt up');
    const watch = mosquittoSub(broker.port, 'sitehub/bridge/b-will/status', 100, 4);
    await watch.subscribed;
    // Cut the TCP connection under mqtt.js: the broker sees an unclean close, the bridge reconnects.
    bridge.mqtt.client.stream.destroy();
    await watch.exited;
    const payloads = watch.lines.map((l) => parseLine(l).payload);
    expect(payloads[0]).toBe('online'); // the retained birth
    expect(payloads.at(-1)).toBe('online');
    expect(payloads).not.toContain('offline'); // reconnected within the will delay: no will at all
  });
});

describe('MQTT -> hub commands', () => {
  it('a mosquitto_pub command reaches the device and its result comes back on .../result', async () => {
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-2', siteId: 'plant-1', classId: 'thermo' });
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    const received: unknown[] = [];
    device.on('command', (cmd: { name: string; params: { celsius: number } }, ack: (a: unknown) => void) => {
      received.push(cmd);
      ack({ ok: true, result: { applied: cmd.params.celsius } });
    });
    await connected(device);
    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-cmd' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');

    const results = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-2/cmd/setpoint/result', 1, 10);
    await results.subscribed;
    expect(await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-2/cmd/setpoint', '{"celsius":21}')).toBe(0);
    expect(await results.exited).toBe(0);
    expect(received).toMatchObject([{ name: 'setpoint', params: { celsius: 21 } }]);
    expect(parseLine(results.lines[0]!).payload).toMatchObject({ ok: true, deviceId: 'th-2', name: 'setpoint', status: 'acked', result: { applied: 21 } });

    // Bad JSON gets an error result rather than silence.
    const bad = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-2/cmd/setpoint/result', 1, 10);
    await bad.subscribed;
    await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-2/cmd/setpoint', '{not json');
    expect(await bad.exited).toBe(0);
    expect(parseLine(bad.lines[0]!).payload).toMatchObject({ ok: false, code: 'bad_request' });
    expect(received).toHaveLength(1);
  });

  it('MQTT 5: the result goes to the response topic with the correlation data; a duplicate request runs once', async () => {
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-3', siteId: 'plant-1', classId: 'thermo' });
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    let runs = 0;
    device.on('command', (_cmd: unknown, ack: (a: unknown) => void) => (runs++, ack({ ok: true, result: 'pong' })));
    await connected(device);
    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-v5' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');

    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'requester-' + Date.now(), reconnectPeriod: 0 });
    try {
      await client.subscribeAsync('replies/me', { qos: 1 });
      const replies: Array<{ payload: any; correlation: string | undefined }> = [];
      client.on('message', (_t, payload, packet) => replies.push({ payload: JSON.parse(payload.toString()), correlation: packet.properties?.correlationData?.toString() }));
      const request = { qos: 1 as const, properties: { responseTopic: 'replies/me', correlationData: Buffer.from('req-42') } };
      await client.publishAsync('sitehub/plant-1/thermo/th-3/cmd/ping', '{}', request);
      await waitUntil(() => replies.length === 1, 10_000, 'a reply');
      expect(replies[0]).toMatchObject({ correlation: 'req-42', payload: { ok: true, status: 'acked', result: 'pong', deviceId: 'th-3', name: 'ping' } });
      // The same correlation data again (a client retry): answered once, not run twice.
      await client.publishAsync('sitehub/plant-1/thermo/th-3/cmd/ping', '{}', request);
      await client.publishAsync('sitehub/plant-1/thermo/th-3/cmd/ping', '{}', { ...request, properties: { ...request.properties, correlationData: Buffer.from('req-43') } });
      await waitUntil(() => replies.length === 2, 10_000, 'a second reply');
      expect(replies[1]!.correlation).toBe('req-43');
      expect(runs).toBe(2);
      expect(bridge.status().commands).toMatchObject({ ok: 2, duplicate: 1 });
    } finally {
      await client.endAsync();
    }
  });
});

describe('loops (MQTT 3.1.1: origin marker)', () => {
  it('ignores a command request that carries its own origin, answers others', async () => {
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-4', siteId: 'plant-1', classId: 'thermo' });
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    let runs = 0;
    device.on('command', (_c: unknown, ack: (a: unknown) => void) => (runs++, ack({ ok: true })));
    await connected(device);
    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-v4', mqttProtocolVersion: 4 });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');
    const results = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-4/cmd/+/result', 1, 10);
    await results.subscribed;
    await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-4/cmd/echo', '{"origin":"b-v4"}');
    await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-4/cmd/ping', '{}');
    expect(await results.exited).toBe(0);
    const result = parseLine(results.lines[0]!);
    expect(result.topic).toBe('sitehub/plant-1/thermo/th-4/cmd/ping/result');
    expect(result.payload).toMatchObject({ ok: true, origin: 'b-v4' });
    expect(runs).toBe(1);
  });
});
