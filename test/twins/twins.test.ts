// Twins (issue 21) on both databases: desired set while the device is offline
// and delivered on connect; conflicting operator updates and late reports
// resolved by version; a desired document delivered late is not applied over
// a newer one by the agent; the agent applying a new batch interval and
// reporting it; the same through /console; history kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HubConfig } from '@sitehub/hub';
import { Agent } from '../../device-client/src/agent.js';
import { DesiredState } from '../../device-client/src/agent/desired.js';
import { agentConfig, waitFor } from '../agent/helpers.js';
import { ADMIN_TOKEN, closeAll, connected, nextEvent, registerDevice, startHub as startHubOn } from '../iot/helpers.js';
import { HUB_DATABASES, stopPostgresCluster } from '../iot/store-backends.js';

const agents: Agent[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(stopPostgresCluster);

describe.each(HUB_DATABASES)('twins on $name', (db) => {
  const startHub = async (config: Partial<HubConfig> = {}) => startHubOn({ ...(await db.config()), ...config });

  it('delivers desired properties set while the device was offline when it connects, and keeps its report', async () => {
    const { api, connect } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    expect((await api('GET', `/api/devices/${deviceId}/twin`)).body).toMatchObject({ desired: {}, desiredVersion: 0, reportedVersion: 0 });
    const set1 = await api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { setpoint: 21, batch: { intervalMs: 500 } } });
    expect(set1.status).toBe(200);
    expect(set1.body).toMatchObject({ desired: { setpoint: 21, batch: { intervalMs: 500 } }, desiredVersion: 1 });
    const set2 = await api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { setpoint: 19, mode: 'eco' } });
    expect(set2.body.desiredVersion).toBe(2);

    // A plain socket.io-client device: it only follows the documented events.
    const device = connect('/devices/thermo', { deviceId, token });
    const first = nextEvent(device, 'desired');
    await connected(device);
    const desired = await first;
    expect(desired).toEqual({
      version: 2,
      desired: { setpoint: 19, mode: 'eco', batch: { intervalMs: 500 } },
      delta: { setpoint: 19, mode: 'eco', batch: { intervalMs: 500 } },
    });
    const ack = await device.timeout(3000).emitWithAck('reported', { version: 2, reported: { setpoint: 19, batch: { intervalMs: 500 } } });
    expect(ack).toEqual({ ok: true, version: 1 });
    const twin = (await api('GET', `/api/devices/${deviceId}/twin`)).body;
    expect(twin).toMatchObject({ desiredVersion: 2, reportedVersion: 1, appliedVersion: 2, reported: { setpoint: 19, batch: { intervalMs: 500 } } });

    // Live: the next change arrives at once, with a delta against what was reported.
    const live = nextEvent(device, 'desired');
    await api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { mode: null, setpoint: 22 } });
    expect(await live).toEqual({ version: 3, desired: { setpoint: 22, batch: { intervalMs: 500 } }, delta: { setpoint: 22 } });

    const history = (await api('GET', `/api/devices/${deviceId}/twin/history`)).body.items;
    expect(history.map((c: { side: string; version: number; source: string }) => `${c.side}:${c.version}:${c.source}`)).toEqual([
      'desired:3:api',
      'reported:1:device',
      'desired:2:api',
      'desired:1:api',
    ]);
  });

  it('resolves conflicting updates by version: a stale operator update gets 409, a late device report is refused', async () => {
    const { api, connect, base } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    await api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { setpoint: 20 } });
    // Two operators both read version 1 and both write: the second one is based on an outdated document.
    const a = await api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { setpoint: 21 }, version: 1 });
    const b = await api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { setpoint: 25 }, version: 1 });
    expect(a.status).toBe(200);
    expect(b.status).toBe(409);
    expect(b.body).toMatchObject({ code: 'twin_conflict', twin: { desiredVersion: 2, desired: { setpoint: 21 } } });

    const device = connect('/devices/thermo', { deviceId, token });
    await connected(device);
    expect(await device.timeout(3000).emitWithAck('reported', { version: 2, reported: { setpoint: 21 } })).toEqual({ ok: true, version: 1 });
    // A report of version 1 arriving after the one of version 2 is outdated.
    const late = await device.timeout(3000).emitWithAck('reported', { version: 1, reported: { setpoint: 20 } });
    expect(late).toMatchObject({ ok: false, code: 'twin_stale', retryable: false });
    expect((await api('GET', `/api/devices/${deviceId}/twin`)).body).toMatchObject({ reported: { setpoint: 21 }, appliedVersion: 2, reportedVersion: 1 });
    // Hostile shapes are refused and counted.
    expect(await device.timeout(3000).emitWithAck('reported', { reported: JSON.parse('{"__proto__":{"x":1}}') })).toMatchObject({ ok: false, code: 'twin_shape' });
    expect(await device.timeout(3000).emitWithAck('reported', { reported: { big: 'x'.repeat(20_000) } })).toMatchObject({ ok: false, code: 'twin_size' });
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(text).toMatch(/twin_conflict"\} 1/);
    expect(text).toMatch(/twin_stale"\} 1/);
  });

  it('the agent applies a new batch interval and reports it', async () => {
    const hub = await startHub();
    const { deviceId, token } = await registerDevice(hub.api);
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-twin-agent-'));
    dirs.push(dir);
    const agent = new Agent(
      agentConfig({ hub: { url: hub.base, deviceId, token, class: 'thermo' }, outbox: { path: join(dir, 'outbox.db') }, simulate: { sensors: 1, intervalMs: 200, total: 0 } }, true),
    );
    agents.push(agent);
    agent.start();
    await waitFor(async () => (await hub.api('GET', `/api/devices/${deviceId}`)).body.online, 5000, 'agent online');
    expect(agent.state()['batch.intervalMs']).toBe(50);
    await hub.api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { batch: { intervalMs: 1234 }, sampling: { intervalMs: 300 }, colour: 'red' } });
    const twin = await waitFor(async () => {
      const t = (await hub.api('GET', `/api/devices/${deviceId}/twin`)).body;
      return t.appliedVersion === 1 ? t : null;
    }, 5000, 'the agent report');
    expect(twin.reported).toEqual({ batch: { intervalMs: 1234 }, ports: { simulated: { sampleIntervalMs: 300 } }, unsupported: ['colour'] });
    expect(agent.state()['batch.intervalMs']).toBe(1234);
    // A value the agent refuses is reported as such, and the setting in force stays.
    await hub.api('PATCH', `/api/devices/${deviceId}/twin`, { desired: { batch: { intervalMs: 1 }, colour: null } });
    const refusedTwin = await waitFor(async () => {
      const t = (await hub.api('GET', `/api/devices/${deviceId}/twin`)).body;
      return t.appliedVersion === 2 ? t : null;
    }, 5000, 'the second report');
    expect(refusedTwin.reported).toEqual({ batch: { intervalMs: 1234 }, ports: { simulated: { sampleIntervalMs: 300 } }, rejected: { 'batch.intervalMs': 'the batch interval must be at least 10 ms' } });
    // A reconnect delivers version 2 again: already reported and acknowledged, it is not reported twice.
    const reportsBefore = refusedTwin.reportedVersion;
    const before = hub.hub.services.devices.socketOf(deviceId)!;
    before.conn.close(); // the link drops: the agent reconnects
    await waitFor(() => {
      const now = hub.hub.services.devices.socketOf(deviceId);
      return now !== undefined && now !== before && now.connected;
    }, 5000, 'the agent back');
    await new Promise((r) => setTimeout(r, 300));
    expect((await hub.api('GET', `/api/devices/${deviceId}/twin`)).body.reportedVersion).toBe(reportsBefore);
  }, 20_000);

  it('sets desired properties from /console and streams twin changes to subscribers', async () => {
    const { api, connect } = await startHub();
    const { deviceId } = await registerDevice(api);
    const operator = connect('/console', { token: ADMIN_TOKEN });
    await connected(operator);
    await operator.timeout(3000).emitWithAck('subscribe', { deviceId });
    const streamed = nextEvent(operator, 'twin');
    const answer = await operator.timeout(3000).emitWithAck('twin:set', { deviceId, desired: { setpoint: 18 } });
    expect(answer).toMatchObject({ ok: true, twin: { desiredVersion: 1, desired: { setpoint: 18 } } });
    expect(await streamed).toMatchObject({ deviceId, desiredVersion: 1, change: { side: 'desired', version: 1, source: 'console', patch: { setpoint: 18 } } });
    expect(await operator.timeout(3000).emitWithAck('twin:set', { deviceId, desired: { setpoint: 17 }, version: 0 })).toMatchObject({ ok: false, code: 'twin_conflict', twin: { desiredVersion: 1 } });
    expect(await operator.timeout(3000).emitWithAck('twin:get', { deviceId })).toMatchObject({ ok: true, twin: { desired: { setpoint: 18 } } });
    expect(await operator.timeout(3000).emitWithAck('twin:set', { deviceId: 'nope', desired: {} })).toMatchObject({ ok: false, code: 'not_found' });
  });
});

describe('the agent and desired documents delivered out of order', () => {
  it('applies version 3, ignores version 2 delivered late, and reports version 3 again only until the hub acknowledged it', () => {
    let batch = 50;
    const state = new DesiredState(
      {
        commands: {
          setInterval: (target, ms) => {
            if (target === 'batch') batch = ms;
            return { target, ms };
          },
          serialWrite: async () => 0,
          state: () => ({}),
          deadLetters: () => ({ count: 0, items: [] }),
        },
        batchIntervalMs: () => batch,
        sampleIntervals: () => ({}),
      },
      pino({ level: 'silent' }),
    );
    expect(state.apply({ version: 3, desired: { batch: { intervalMs: 300 } }, delta: {} })?.reported).toMatchObject({ batch: { intervalMs: 300 } });
    expect(state.apply({ version: 2, desired: { batch: { intervalMs: 200 } }, delta: {} })).toBeUndefined();
    expect(batch).toBe(300);
    // Delivered again on a reconnect: the report goes again until the hub acknowledged it, then no more.
    expect(state.apply({ version: 3, desired: { batch: { intervalMs: 300 } }, delta: {} })).toMatchObject({ version: 3 });
    state.acked(3);
    expect(state.apply({ version: 3, desired: { batch: { intervalMs: 300 } }, delta: {} })).toBeUndefined();
    expect(state.applied).toBe(3);
  });
});
