// Commands: retries on ack timeout, failure after the last attempt,
// redelivery after a reconnect, expiry of undelivered commands. On both
// databases: commands live in the store.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HubConfig } from '@sitehub/hub';
import { ADMIN_TOKEN, closeAll, connected, nextEvent, registerDevice, startHub as startHubOn } from './helpers.js';
import { HUB_DATABASES, stopPostgresCluster } from './store-backends.js';

afterEach(closeAll);
afterAll(stopPostgresCluster);

const FAST = { commandAckTimeoutMs: 200, commandMaxAttempts: 3 };

describe.each(HUB_DATABASES)('command delivery on $name', (db) => {
  const startHub = async (config: Partial<HubConfig> = {}) => startHubOn({ ...(await db.config()), ...config });
  it('sends again after an ack timeout and stores the answer of the retry', async () => {
    const { api, connect } = await startHub(FAST);
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    const seen: string[] = [];
    device.on('command', (cmd: { id: string }, ack: (a: unknown) => void) => {
      seen.push(cmd.id);
      if (seen.length >= 2) ack({ ok: true, result: seen.length }); // the first one is "lost"
    });
    await connected(device);
    const { body } = await api('POST', '/api/commands', { deviceId, name: 'open' });
    const done = await api('GET', `/api/commands/${body.id}?waitMs=5000`);
    expect(done.body).toMatchObject({ status: 'acked', attempts: 2, result: 2 });
    expect(seen).toEqual([body.id, body.id]);
  });

  it('fails a command the device never answers, after commandMaxAttempts sends', async () => {
    const { api, connect } = await startHub(FAST);
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token });
    let sends = 0;
    device.on('command', () => sends++);
    await connected(device);
    const { body } = await api('POST', '/api/commands', { deviceId, name: 'open' });
    const done = await api('GET', `/api/commands/${body.id}?waitMs=5000`);
    expect(done.body).toMatchObject({ status: 'failed', attempts: 3, error: 'no answer after 3 attempts' });
    expect(sends).toBe(3);
  });

  it('keeps an unanswered command across a disconnect and delivers it again on reconnect', async () => {
    const { api, connect } = await startHub({ commandAckTimeoutMs: 5000 });
    const { deviceId, token } = await registerDevice(api);
    const first = connect('/devices/thermo', { deviceId, token });
    const got = new Promise((resolve) => first.on('command', resolve));
    await connected(first);
    const { body } = await api('POST', '/api/commands', { deviceId, name: 'calibrate', params: { span: 2 } });
    await got;
    first.close(); // gone before answering
    expect((await api('GET', `/api/commands/${body.id}`)).body.status).toBe('sent');

    const second = connect('/devices/thermo', { deviceId, token });
    second.on('command', (cmd: { id: string; params: unknown }, ack: (a: unknown) => void) => ack({ ok: true, result: cmd.params }));
    await connected(second);
    const done = await api('GET', `/api/commands/${body.id}?waitMs=5000`);
    expect(done.body).toMatchObject({ status: 'acked', result: { span: 2 } });
  });

  it('expires a command whose device stays away, and tells /console', async () => {
    const { api, connect } = await startHub();
    const { deviceId } = await registerDevice(api);
    const operator = connect('/console', { token: ADMIN_TOKEN });
    await connected(operator);
    await operator.timeout(2000).emitWithAck('subscribe', { deviceId });
    const { body } = await api('POST', '/api/commands', { deviceId, name: 'open', ttlMs: 300 });
    const expired = await nextEvent(operator, 'command', (c: { id: string; status: string; error?: string }) => c.id === body.id && c.status === 'expired', 5000);
    expect(expired.error).toMatch(/expired/);
    expect((await api('GET', `/api/commands?status=expired`)).body.items.map((c: { id: string }) => c.id)).toEqual([body.id]);
  });

  it('refuses commands for unknown or disabled devices and bad names', async () => {
    const { api } = await startHub();
    const { deviceId } = await registerDevice(api);
    expect((await api('POST', '/api/commands', { deviceId: 'ghost', name: 'x' })).status).toBe(404);
    expect((await api('POST', '/api/commands', { deviceId, name: 'has spaces' })).status).toBe(400);
    await api('POST', `/api/devices/${deviceId}/disable`);
    const disabled = await api('POST', '/api/commands', { deviceId, name: 'x' });
    expect(disabled).toMatchObject({ status: 409, body: { code: 'device_disabled' } });
  });
});
