// End to end from a device's point of view, with the official socket.io-client:
// registration over REST, authenticated connect, batched telemetry with acks,
// idempotent resends, refusals, and a command that waits for its device.
// Run on both databases: SQLite (the default) and PostgreSQL.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAll, connected, nextEvent, readings, refused, registerDevice, startHub as startHubOn, ADMIN_TOKEN } from '../iot/helpers.js';
import { HUB_DATABASES, stopPostgresCluster } from '../iot/store-backends.js';

afterEach(closeAll);
afterAll(stopPostgresCluster);

describe.each(HUB_DATABASES)('a device talking to the hub on $name', (db) => {
  const startHub = async () => startHubOn(await db.config());
  it('sends 1,000 readings in acked batches, reads them back over REST, and a resend stores nothing twice', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    await connected(device);

    const batches = Array.from({ length: 10 }, (_, b) => readings(b * 100 + 1, 100));
    for (const batch of batches) {
      expect(await device.timeout(5000).emitWithAck('telemetry', batch)).toEqual({ ok: true, stored: 100, duplicates: 0 });
    }
    const back = await api('GET', `/api/devices/${deviceId}/telemetry?limit=5000`);
    expect(back.status).toBe(200);
    expect(back.body.items).toHaveLength(1000);
    expect(back.body.items.map((r: { seq: number }) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(back.body.items[41]).toEqual(batches[0]![41]);

    for (const batch of batches.slice(0, 3)) {
      expect(await device.timeout(5000).emitWithAck('telemetry', batch)).toEqual({ ok: true, stored: 0, duplicates: 100 });
    }
    // A batch half old, half new stores only the new half.
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(951, 100))).toEqual({ ok: true, stored: 50, duplicates: 50 });
    const after = await api('GET', `/api/devices/${deviceId}/telemetry?limit=5000`);
    expect(after.body.items).toHaveLength(1050);

    const agg = await api('GET', `/api/devices/${deviceId}/telemetry/aggregate?metric=temp&interval=60000&from=${Date.now() - 7_200_000}`);
    expect(agg.status).toBe(200);
    const total = agg.body.items.reduce((n: number, b: { count: number }) => n + b.count, 0);
    expect(total).toBe(1050);
    expect(Math.min(...agg.body.items.map((b: { min: number }) => b.min))).toBe(20);
    expect(Math.max(...agg.body.items.map((b: { max: number }) => b.max))).toBe(29);

    const listed = await api('GET', `/api/devices/${deviceId}`);
    expect(listed.body.online).toBe(true);
  });

  it('refuses a wrong token, another class, an unknown device and a disabled device with connect_error and data.code', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    await api('POST', '/api/classes', { id: 'valve' });

    const wrongToken = await refused(connect('/devices/thermo', { deviceId, token: token.slice(0, -2) + 'xx' }));
    const otherClass = await refused(connect('/devices/valve', { deviceId, token }));
    const unknown = await refused(connect('/devices/thermo', { deviceId: 'nobody', token }));
    const noAuth = await refused(connect('/devices/thermo', {}));
    // One answer for every credential mistake: nothing says which part was wrong.
    for (const err of [wrongToken, otherClass, unknown, noAuth]) {
      expect(err.message).toBe('authentication failed');
      expect(err.data).toEqual({ code: 'invalid_credentials' });
    }

    expect((await api('POST', `/api/devices/${deviceId}/disable`)).body.disabled).toBe(true);
    const disabled = await refused(connect('/devices/thermo', { deviceId, token }));
    expect(disabled.message).toBe('device disabled');
    expect(disabled.data).toEqual({ code: 'device_disabled' });
    // A wrong token on a disabled device says nothing about the device.
    expect((await refused(connect('/devices/thermo', { deviceId, token: 'x' }))).data).toEqual({ code: 'invalid_credentials' });

    await api('POST', `/api/devices/${deviceId}/enable`);
    await connected(connect('/devices/thermo', { deviceId, token }));
  });

  it('delivers a command created while the device was offline when it connects; the result shows over REST and on /console', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token, siteId } = await registerDevice(api);
    const operator = connect('/console', { token: ADMIN_TOKEN });
    await connected(operator);
    expect(await operator.timeout(2000).emitWithAck('subscribe', { siteId })).toEqual({ ok: true, rooms: [`site:${siteId}`] });

    const created = await api('POST', '/api/commands', { deviceId, name: 'setpoint', params: { celsius: 21 } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending');
    const id = created.body.id;

    const acked = nextEvent(operator, 'command', (c: { id: string; status: string }) => c.id === id && c.status === 'acked');
    const device = connect('/devices/thermo', { deviceId, token });
    const received = new Promise<unknown>((resolve) =>
      device.on('command', (cmd: unknown, ack: (a: unknown) => void) => {
        resolve(cmd);
        ack({ ok: true, result: { applied: 21 } });
      }),
    );
    await connected(device);
    expect(await received).toEqual({ id, name: 'setpoint', params: { celsius: 21 } });

    const pushed = await acked;
    expect(pushed).toMatchObject({ id, deviceId, status: 'acked', result: { applied: 21 }, attempts: 1 });
    const viaRest = await api('GET', `/api/commands/${id}?waitMs=2000`);
    expect(viaRest.body).toMatchObject({ id, status: 'acked', result: { applied: 21 }, error: null, source: 'api' });
  });

  it('lets /console send a command and get the device result in the ack; a failing device reports failed', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    device.on('command', (cmd: { name: string }, ack: (a: unknown) => void) =>
      ack(cmd.name === 'reboot' ? { ok: false, error: 'busy' } : { ok: true, result: 'pong' }),
    );
    await connected(device);
    const operator = connect('/console', { token: ADMIN_TOKEN });
    await connected(operator);

    const ping = await operator.timeout(5000).emitWithAck('command', { deviceId, name: 'ping' });
    expect(ping).toMatchObject({ ok: true, command: { status: 'acked', result: 'pong', source: 'console' } });
    const reboot = await operator.timeout(5000).emitWithAck('command', { deviceId, name: 'reboot' });
    expect(reboot).toMatchObject({ ok: true, command: { status: 'failed', error: 'busy' } });
    const bad = await operator.timeout(5000).emitWithAck('command', { deviceId: 'nobody', name: 'ping' });
    expect(bad).toMatchObject({ ok: false, code: 'not_found' });

    const list = await api('GET', `/api/commands?deviceId=${deviceId}`);
    expect(list.body.items.map((c: { status: string }) => c.status).sort()).toEqual(['acked', 'failed']);
  });
});
