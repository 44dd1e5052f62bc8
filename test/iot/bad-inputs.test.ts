// The IoT rows of BAD-INPUTS.md: credential mistakes get one indistinguishable
// connect_error; bad telemetry gets an ack { ok: false, error } with nothing
// written; the hub keeps serving and counts each case.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connected, readings, refused, registerDevice, startHub } from './helpers.js';

afterEach(closeAll);

async function metric(base: string, line: string): Promise<number> {
  const text = await (await fetch(base + '/metrics')).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

describe('IoT bad inputs', () => {
  it('wrong token, token of a device of another class, unknown device: same connect_error, no hint, counted', async () => {
    const { api, connect, base } = await startHub();
    const a = await registerDevice(api, { deviceId: 'thermo-1', classId: 'thermo' });
    const b = await registerDevice(api, { deviceId: 'valve-1', classId: 'valve' });

    const answers = [
      await refused(connect('/devices/thermo', { deviceId: a.deviceId, token: b.token })), // wrong token
      await refused(connect('/devices/thermo', { deviceId: b.deviceId, token: b.token })), // another class's device
      await refused(connect('/devices/thermo', { deviceId: 'ghost', token: a.token })), // unknown device
      await refused(connect('/devices/thermo', { deviceId: { $ne: null }, token: ['x'] })), // malformed
    ];
    for (const err of answers) {
      expect({ message: err.message, data: err.data }).toEqual({ message: 'authentication failed', data: { code: 'invalid_credentials' } });
    }
    expect(await metric(base, 'sitehub_refused_connections_total{namespace="device",code="invalid_credentials"}')).toBe(4);
    // Both devices still connect with their own credentials.
    await connected(connect('/devices/thermo', { deviceId: a.deviceId, token: a.token }));
    await connected(connect('/devices/valve', { deviceId: b.deviceId, token: b.token }));
  });

  it('refuses a non-numeric seq, a ts far in the future and 10 MB of values with { ok: false, error, code, retryable: false }, writing nothing', async () => {
    // With the default 1 MB message limit a 10 MB message never reaches validation (the connection
    // is closed, see test/security/limits-messages.test.ts); a hub that allows larger messages must
    // still refuse the content with an ack.
    const { api, connect, base } = await startHub({ maxMessageBytes: 16 * 1024 * 1024 });
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    await connected(device);
    const send = (payload: unknown) => device.timeout(15_000).emitWithAck('telemetry', payload);

    // Each bad reading comes last in a batch whose first readings are valid: none of them may be stored.
    const good = readings(1, 5);
    const nonNumericSeq = await send([...good, { seq: '6', ts: Date.now(), values: { temp: 1 } }]);
    const nanSeq = await send({ seq: null, ts: Date.now(), values: { temp: 1 } });
    const future = await send([...good, { seq: 6, ts: Date.now() + 365 * 86_400_000, values: { temp: 1 } }]);
    const huge = await send([...good, { seq: 6, ts: Date.now(), values: { blob: 'x'.repeat(10 * 1024 * 1024) } }]);
    const manyKeys = await send({ seq: 7, ts: Date.now(), values: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) });
    for (const answer of [nonNumericSeq, nanSeq, future, huge, manyKeys]) {
      expect(answer.ok).toBe(false);
      expect(typeof answer.error).toBe('string');
      // `index` names the reading at fault when one reading of a batch is.
      expect(Object.keys(answer).filter((k) => k !== 'index').sort()).toEqual(['code', 'error', 'ok', 'retryable']);
      // Refused on content: a device must not resend it unchanged.
      expect(answer.retryable).toBe(false);
    }
    expect([nonNumericSeq.index, future.index, huge.index]).toEqual([5, 5, 5]);
    expect(nonNumericSeq.error).toMatch(/seq/);
    expect(future.error).toMatch(/future/);
    expect(huge.error).toMatch(/longer than|bytes/);

    const stored = await api('GET', `/api/devices/${deviceId}/telemetry`);
    expect(stored.body.items).toEqual([]);
    expect(await metric(base, 'sitehub_bad_inputs_total{kind="telemetry_seq"}')).toBe(2);
    expect(await metric(base, 'sitehub_bad_inputs_total{kind="telemetry_ts"}')).toBe(1);
    expect(await metric(base, 'sitehub_bad_inputs_total{kind="telemetry_size"}')).toBe(2);

    // The same session goes on working, and the valid readings can be sent on their own.
    expect(device.connected).toBe(true);
    expect(await send(good)).toEqual({ ok: true, stored: 5, duplicates: 0 });
  });

  it('refuses malformed state and events the same way', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    await connected(device);
    const ask = (event: string, payload: unknown) => device.timeout(5000).emitWithAck(event, payload);

    expect((await ask('state', 'on')).ok).toBe(false);
    expect((await ask('state', { attrs: { mode: 'auto' }, ts: Date.now() + 86_400_000 })).ok).toBe(false);
    expect((await ask('event', { kind: 'alarm', severity: 'apocalyptic' })).ok).toBe(false);
    expect((await ask('event', { message: 'no kind' })).ok).toBe(false);
    expect((await api('GET', `/api/devices/${deviceId}/events`)).body.items).toEqual([]);
    expect((await api('GET', `/api/devices/${deviceId}/state`)).body.attrs).toEqual({});

    expect(await ask('state', { mode: 'auto', setpoint: 21 })).toEqual({ ok: true });
    expect(await ask('state', { setpoint: 22, mode: null })).toEqual({ ok: true });
    expect((await api('GET', `/api/devices/${deviceId}/state`)).body.attrs).toEqual({ setpoint: 22 });
    expect((await api('GET', `/api/devices/${deviceId}/state/history`)).body.items).toHaveLength(2);
    const event = await ask('event', { kind: 'alarm', severity: 'critical', message: 'overheat', data: { temp: 95 } });
    expect(event).toMatchObject({ ok: true, id: expect.any(Number) });
    expect((await api('GET', `/api/devices/${deviceId}/events?kind=alarm`)).body.items[0]).toMatchObject({ kind: 'alarm', severity: 'critical', message: 'overheat', data: { temp: 95 } });
  });
});
