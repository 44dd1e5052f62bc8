// /console and /bridge: authentication, filtered live streams (presence,
// telemetry, state, events), bridge tokens; enrollment and token rotation.
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, closeAll, connected, nextEvent, readings, refused, registerDevice, startHub } from './helpers.js';

afterEach(closeAll);

describe('operator streams', () => {
  it('refuses /console without the admin token, and unknown namespaces', async () => {
    const { connect } = await startHub();
    const err = await refused(connect('/console', { token: 'wrong-token' }));
    expect(err.data).toEqual({ code: 'invalid_credentials' });
    expect((await refused(connect('/admin', {}))).message).toBe('Invalid namespace');
    expect((await refused(connect('/devices/Not_A_Class', {}))).message).toBe('Invalid namespace');
  });

  it('streams only what a subscription covers: by class, by device; presence, telemetry, state, events', async () => {
    const { api, connect } = await startHub();
    const t = await registerDevice(api, { deviceId: 't1', classId: 'thermo' });
    const v = await registerDevice(api, { deviceId: 'v1', classId: 'valve' });
    const byClass = connect('/console', { token: ADMIN_TOKEN });
    const byDevice = connect('/console', { token: ADMIN_TOKEN });
    await Promise.all([connected(byClass), connected(byDevice)]);
    await byClass.timeout(2000).emitWithAck('subscribe', { classId: 'valve' });
    await byDevice.timeout(2000).emitWithAck('subscribe', { deviceId: 't1' });
    const classSeen: string[] = [];
    byClass.onAny((event: string, payload: { deviceId: string }) => classSeen.push(`${event}:${payload.deviceId}`));

    const online = nextEvent(byDevice, 'presence', (p: { deviceId: string; online: boolean }) => p.deviceId === 't1' && p.online);
    const thermo = connect('/devices/thermo', { deviceId: t.deviceId, token: t.token });
    const valve = connect('/devices/valve', { deviceId: v.deviceId, token: v.token });
    await Promise.all([connected(thermo), connected(valve)]);
    expect(await online).toMatchObject({ deviceId: 't1', siteId: 'site-a', classId: 'thermo', online: true, transport: 'websocket' });

    const telemetry = nextEvent(byDevice, 'telemetry');
    await thermo.timeout(2000).emitWithAck('telemetry', readings(1, 3));
    expect((await telemetry).readings.map((r: { seq: number }) => r.seq)).toEqual([1, 2, 3]);
    const state = nextEvent(byDevice, 'state');
    await thermo.timeout(2000).emitWithAck('state', { mode: 'eco' });
    expect(await state).toMatchObject({ deviceId: 't1', attrs: { mode: 'eco' } });
    const event = nextEvent(byDevice, 'event');
    await thermo.timeout(2000).emitWithAck('event', { kind: 'alarm', severity: 'warning', message: 'door open' });
    expect(await event).toMatchObject({ deviceId: 't1', kind: 'alarm', message: 'door open' });

    const valveTelemetry = nextEvent(byClass, 'telemetry');
    await valve.timeout(2000).emitWithAck('telemetry', readings(1, 1));
    expect((await valveTelemetry).deviceId).toBe('v1');
    const offline = nextEvent(byDevice, 'presence', (p: { online: boolean }) => !p.online);
    thermo.close();
    expect(await offline).toMatchObject({ deviceId: 't1', online: false });
    // The class subscriber never saw the thermostat.
    expect(classSeen.filter((e) => e.endsWith(':t1'))).toEqual([]);
    expect(classSeen).toContain('telemetry:v1');

    expect(await byClass.timeout(2000).emitWithAck('subscribe', { deviceId: ['ok', 42] })).toMatchObject({ ok: false, code: 'invalid_filter' });
  });

  it('issues bridge tokens that open /bridge until they are disabled', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const created = await api('POST', '/api/bridge-tokens', { name: 'mqtt' });
    expect(created.status).toBe(201);
    const bridge = connect('/bridge', { token: created.body.token });
    await connected(bridge);
    await bridge.timeout(2000).emitWithAck('subscribe', {});
    const device = connect('/devices/thermo', { deviceId, token });
    device.on('command', (_cmd: unknown, ack: (a: unknown) => void) => ack({ ok: true, result: 'done' }));
    const seen = nextEvent(bridge, 'telemetry');
    await connected(device);
    await device.timeout(2000).emitWithAck('telemetry', readings(1, 1));
    expect((await seen).deviceId).toBe(deviceId);
    const answer = await bridge.timeout(5000).emitWithAck('command', { deviceId, name: 'ping' });
    expect(answer).toMatchObject({ ok: true, command: { status: 'acked', result: 'done', source: `bridge:${created.body.bridgeToken.id}` } });

    const gone = new Promise((resolve) => bridge.on('disconnect', resolve));
    expect((await api('DELETE', `/api/bridge-tokens/${created.body.bridgeToken.id}`)).status).toBe(204);
    await gone;
    expect((await refused(connect('/bridge', { token: created.body.token }))).data).toEqual({ code: 'invalid_credentials' });
    expect((await refused(connect('/bridge', { token: ADMIN_TOKEN }))).data).toEqual({ code: 'invalid_credentials' });
  });
});

describe('device credentials', () => {
  it('rotating a token ends the session and only the new token works', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    await connected(device);
    const kicked = new Promise((resolve) => device.on('disconnect', resolve));
    const rotated = await api('POST', `/api/devices/${deviceId}/rotate-token`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).not.toBe(token);
    await kicked;
    expect((await refused(connect('/devices/thermo', { deviceId, token }))).data).toEqual({ code: 'invalid_credentials' });
    await connected(connect('/devices/thermo', { deviceId, token: rotated.body.token }));
  });

  it('lets an unknown device enroll itself with the enrollment key, and gives it its token once', async () => {
    const { api, connect } = await startHub({ enrollmentKey: 'enroll-key-123' });
    await api('POST', '/api/sites', { id: 'farm' });
    await api('POST', '/api/classes', { id: 'soil' });
    expect((await refused(connect('/devices/soil', { deviceId: 'probe-1', enrollmentKey: 'nope-nope', siteId: 'farm' }))).data).toEqual({ code: 'invalid_credentials' });
    expect((await refused(connect('/devices/soil', { deviceId: 'probe-1', enrollmentKey: 'enroll-key-123', siteId: 'nowhere' }))).data).toEqual({ code: 'invalid_credentials' });

    const newcomer = connect('/devices/soil', { deviceId: 'probe-1', enrollmentKey: 'enroll-key-123', siteId: 'farm' });
    const enrolled = nextEvent<{ deviceId: string; token: string }>(newcomer, 'enrolled');
    await connected(newcomer);
    const { token } = await enrolled;
    expect((await api('GET', '/api/devices/probe-1')).body).toMatchObject({ classId: 'soil', siteId: 'farm' });
    newcomer.close();
    // Known now: the key no longer opens it, the token does.
    expect((await refused(connect('/devices/soil', { deviceId: 'probe-1', enrollmentKey: 'enroll-key-123', siteId: 'farm' }))).data).toEqual({ code: 'invalid_credentials' });
    await connected(connect('/devices/soil', { deviceId: 'probe-1', token }));
  });

  it('replaces an older session of the same device with the newer one', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const first = connect('/devices/thermo', { deviceId, token });
    await connected(first);
    const replaced = new Promise((resolve) => first.on('disconnect', resolve));
    const second = connect('/devices/thermo', { deviceId, token });
    await connected(second);
    await replaced;
    expect(await second.timeout(2000).emitWithAck('telemetry', readings(1, 1))).toMatchObject({ ok: true });
    expect((await api('GET', `/api/devices/${deviceId}`)).body.online).toBe(true);
  });
});
