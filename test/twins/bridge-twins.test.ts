// Desired state through the bridge from MQTT (real Mosquitto): a publish on
// `.../twin/desired/set` reaches the device as `desired`, the result comes
// back on `.../result`, a stale version is refused there, and the twin after
// the device's report is published retained on `.../twin`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, connected, nextEvent, registerDevice, startHub } from '../iot/helpers.js';
import { startMosquitto, type TestBroker } from '../helpers/mosquitto.js';
import { closeBridges, mosquittoPub, mosquittoSub, parseLine, startBridge, waitUntil } from '../bridge/helpers.js';

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

describe('twins through the bridge', () => {
  it('MQTT sets desired properties, the device gets them, reports, and the twin is published retained', async () => {
    const { api, base, connect } = await startHub();
    const dev = await registerDevice(api, { deviceId: 'th-7', siteId: 'plant-1', classId: 'thermo' });
    const bridge = await startBridge(api, base, broker.url, { bridgeId: 'b-twin' });
    await waitUntil(() => bridge.status().ok, 5000, 'both links up');

    // Set while the device is offline: kept by the hub.
    const results = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-7/twin/desired/set/result', 1, 10);
    await results.subscribed;
    expect(await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-7/twin/desired/set', '{"desired":{"batch":{"intervalMs":900}}}')).toBe(0);
    expect(await results.exited).toBe(0);
    expect(parseLine(results.lines[0]!).payload).toMatchObject({ ok: true, deviceId: 'th-7', twin: { desiredVersion: 1, desired: { batch: { intervalMs: 900 } } } });
    expect((await api('GET', '/api/devices/th-7/twin/history')).body.items[0]).toMatchObject({ side: 'desired', version: 1, source: expect.stringMatching(/^bridge:/) });

    // The device connects, gets it, reports; the twin lands retained on the broker.
    const device = connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    const desired = nextEvent(device, 'desired');
    await connected(device);
    expect(await desired).toMatchObject({ version: 1, delta: { batch: { intervalMs: 900 } } });
    expect(await device.timeout(3000).emitWithAck('reported', { version: 1, reported: { batch: { intervalMs: 900 } } })).toEqual({ ok: true, version: 1 });
    await waitUntil(() => bridge.status().mqtt.queued === 0, 5000, 'queue drained');
    const retained = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-7/twin', 1, 10);
    expect(await retained.exited).toBe(0);
    expect(parseLine(retained.lines[0]!).payload).toMatchObject({ deviceId: 'th-7', desiredVersion: 1, appliedVersion: 1, reported: { batch: { intervalMs: 900 } } });

    // Live, with a version: the current one passes and reaches the device; a stale one is refused with the twin as it is.
    const live = nextEvent(device, 'desired');
    const ok = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-7/twin/desired/set/result', 1, 10);
    await ok.subscribed;
    await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-7/twin/desired/set', '{"desired":{"batch":{"intervalMs":700}},"version":1}');
    expect(await ok.exited).toBe(0);
    expect(await live).toMatchObject({ version: 2, delta: { batch: { intervalMs: 700 } } });
    const stale = mosquittoSub(broker.port, 'sitehub/plant-1/thermo/th-7/twin/desired/set/result', 1, 10);
    await stale.subscribed;
    await mosquittoPub(broker.port, 'sitehub/plant-1/thermo/th-7/twin/desired/set', '{"desired":{"batch":{"intervalMs":100}},"version":1}');
    expect(await stale.exited).toBe(0);
    expect(parseLine(stale.lines[0]!).payload).toMatchObject({ ok: false, code: 'twin_conflict', twin: { desiredVersion: 2 } });
    expect((await api('GET', '/api/devices/th-7/twin')).body.desired).toEqual({ batch: { intervalMs: 700 } });
  });
});
