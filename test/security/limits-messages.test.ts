// BAD-INPUTS.md edge row "huge nested message", and the 1 MB default message
// size: a megabyte of `[[[[…` is refused without stalling the event loop, a
// larger one is refused by size, and the agent's telemetry batches fit.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../hub/src/config/index.js';
import { closeAll, registerDevice, startHub, type TestHub } from '../iot/helpers.js';
import { metric, openRawSession, wellBehavedDevice, type RawSession } from './limits-helpers.js';

afterEach(closeAll);

/** A raw session joined to the device namespace with real credentials. */
async function deviceSession(t: TestHub, deviceId: string): Promise<RawSession> {
  const { token } = await registerDevice(t.api, { deviceId });
  const session = await openRawSession(t.base, { localAddress: '127.0.0.3' });
  session.ws.send(`40/devices/thermo,${JSON.stringify({ deviceId, token })}`);
  expect(await session.next()).toMatch(/^40\/devices\/thermo,\{"sid":/);
  return session;
}

/** The longest event-loop stall (ms) while `action` runs and the connection closes. */
async function stallDuring(session: RawSession, action: () => void): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 2 });
  histogram.enable();
  action();
  await session.closed;
  await new Promise((r) => setTimeout(r, 20));
  histogram.disable();
  return histogram.max / 1e6;
}

describe('message size', () => {
  it('defaults to 1 MB, socket.io\'s default', async () => {
    expect(DEFAULT_CONFIG.maxMessageBytes).toBe(1_000_000);
    const t = await startHub();
    expect(t.hub.io.engine.opts.maxHttpBufferSize).toBe(1_000_000);
  });

  it('takes the agent\'s largest telemetry batch of typical readings', async () => {
    const t = await startHub();
    const device = await wellBehavedDevice(t, '127.0.0.2');
    // The agent's batch.size is 100 by default and at most 1000; eight numeric values a reading.
    const t0 = Date.now() - 3_600_000;
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      seq: 100 + i,
      ts: t0 + i * 1000,
      values: { temperature: 21.37, humidity: 45.2, pressure: 1013.25, co2: 612, voc: 0.83, pm25: 7.4, battery: 3.61, rssi: -67 },
    }));
    const bytes = Buffer.byteLength(JSON.stringify(['telemetry', batch]));
    expect(bytes).toBeLessThan(DEFAULT_CONFIG.maxMessageBytes / 4);
    expect(await device.timeout(10_000).emitWithAck('telemetry', batch)).toMatchObject({ ok: true, stored: 1000 });
    console.log(`a batch of 1000 readings with 8 values is ${bytes} bytes (${(bytes / 1000).toFixed(0)} per reading)`);
  });
});

describe('huge nested message', () => {
  it('refuses a megabyte of [[[[… within the size limit without stalling other clients', async () => {
    const t = await startHub();
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const header = '42/devices/thermo,["telemetry",';
    const nested = header + '['.repeat(999_000 - header.length);
    expect(nested.length).toBeLessThan(DEFAULT_CONFIG.maxMessageBytes);

    // Three times, from three sessions: the smallest stall is the hub's own, whatever else runs on this machine.
    const stalls: number[] = [];
    for (let i = 0; i < 3; i++) {
      const session = await deviceSession(t, `nest-${i}`);
      stalls.push(await stallDuring(session, () => session.ws.send(nested)));
    }
    // V8 needs 100-300 ms to parse this; refused unparsed it is a few ms.
    expect(Math.min(...stalls)).toBeLessThan(50);
    expect(await metric(t.base, 'sitehub_realtime_too_deep_messages_total')).toBe(3);

    // Closed brackets, a megabyte of nesting that is valid JSON: the same.
    const closedNested = header + '['.repeat(499_000) + ']'.repeat(499_000) + ']';
    const session = await deviceSession(t, 'nest-closed');
    const stall = await stallDuring(session, () => session.ws.send(closedNested));
    expect(await metric(t.base, 'sitehub_realtime_too_deep_messages_total')).toBe(4);

    expect(await device.timeout(5000).emitWithAck('telemetry', [{ seq: 50, ts: Date.now() - 1000, values: { t: 1 } }])).toMatchObject({ ok: true });
    // The hub's own view of its health: memory and event-loop delay.
    expect(await metric(t.base, 'sitehub_process_heap_used_bytes')).toBeGreaterThan(1e6);
    expect(await metric(t.base, 'sitehub_process_resident_memory_bytes')).toBeGreaterThan(1e6);
    const text = await (await fetch(t.base + '/metrics', { headers: { authorization: 'Bearer test-admin-token-0123456789' } })).text();
    for (const q of ['0.5', '0.99', '1']) expect(text).toMatch(new RegExp(`^sitehub_event_loop_delay_seconds\\{quantile="${q}"\\} [0-9.e-]+$`, 'm'));
    console.log(`huge nested message: event-loop stalls ${stalls.map((s) => s.toFixed(1)).join(', ')} ms; closed nesting ${stall.toFixed(1)} ms`);
  });

  it('refuses a larger one by size: WebSocket close 1009, counted', async () => {
    const t = await startHub();
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const session = await deviceSession(t, 'too-big');
    session.ws.send('42/devices/thermo,["telemetry",' + '['.repeat(1_200_000));
    expect(await session.closed).toBe(1009);
    expect(await metric(t.base, 'sitehub_engine_bad_inputs_total{kind="payload_too_large"}')).toBe(1);
    expect(await device.timeout(5000).emitWithAck('telemetry', [{ seq: 50, ts: Date.now() - 1000, values: { t: 1 } }])).toMatchObject({ ok: true });
  });
});
