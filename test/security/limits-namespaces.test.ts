// BAD-INPUTS.md edge rows "namespace flood" and "unused namespace": device
// namespaces exist only for registered classes, and '/' accepts nobody.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectClient, connected, refused, registerDevice, readings, startHub } from '../iot/helpers.js';
import { metric, openRawSession, wellBehavedDevice, type RawSession } from './limits-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

afterEach(closeAll);

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Sends CONNECTs to `/devices/<prefix><i>` for i in [from, to), `window` at a time, and checks every answer. */
async function floodConnects(session: RawSession, prefix: string, from: number, to: number, window = 500): Promise<number> {
  let refusedCount = 0;
  for (let start = from; start < to; start += window) {
    const end = Math.min(to, start + window);
    for (let i = start; i < end; i++) session.ws.send(`40/devices/${prefix}${i},{"deviceId":"d${i}","token":"nope"}`);
    for (let i = start; i < end; i++) {
      const answer = await session.next(10_000);
      if (!/^44\/devices\/[a-z0-9-]+,\{"message":"Invalid namespace"\}$/.test(answer)) throw new Error('unexpected answer ' + answer);
      refusedCount++;
    }
  }
  return refusedCount;
}

describe('namespace flood', () => {
  it('refuses 100,000 CONNECTs to unregistered classes with "Invalid namespace", keeps no namespace and no memory, counts them', async () => {
    const t = await startHub({ connectTimeoutMs: 120_000 });
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const nspsBefore = [...t.hub.io._nsps.keys()].sort();

    // Warm-up: the code paths and the store's statements exist before the baseline is taken.
    const warm = await openRawSession(t.base);
    await floodConnects(warm, 'warm-', 0, 2000);
    const heapBefore = heapAfterGc();

    const sessions = await Promise.all(Array.from({ length: 10 }, () => openRawSession(t.base)));
    const started = performance.now();
    const counts = await Promise.all(sessions.map((s, k) => floodConnects(s, `x${k}-`, 0, 10_000)));
    const seconds = (performance.now() - started) / 1000;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);

    const heapAfter = heapAfterGc();
    const growthMb = (heapAfter - heapBefore) / 1e6;
    // A namespace kept per name costs well over 1 KB: 100,000 of them would be 100 MB and more.
    expect(growthMb).toBeLessThan(10);
    expect([...t.hub.io._nsps.keys()].sort()).toEqual(nspsBefore);
    expect(await metric(t.base, 'sitehub_realtime_invalid_namespaces_total')).toBe(102_000);

    // The flooding sessions are still open (refusals do not end a session), the device still works.
    for (const s of sessions) expect(s.ws.readyState).toBe(s.ws.OPEN);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 2))).toMatchObject({ ok: true, stored: 2 });
    console.log(`namespace flood: 100000 CONNECTs refused in ${seconds.toFixed(1)} s, heap ${(heapBefore / 1e6).toFixed(1)} -> ${(heapAfter / 1e6).toFixed(1)} MB`);
  }, 180_000);

  it('sees classes created at run time, and drops a device namespace when its last socket leaves', async () => {
    const t = await startHub();
    const early = connectClient(t.base, '/devices/late-class', { deviceId: 'dev-late', token: 'x'.repeat(20) });
    expect((await refused(early)).message).toBe('Invalid namespace');
    expect(t.hub.io._nsps.has('/devices/late-class')).toBe(false);

    const { deviceId, token } = await registerDevice(t.api, { classId: 'late-class', deviceId: 'dev-late' });
    const device = connectClient(t.base, '/devices/late-class', { deviceId, token });
    await connected(device);
    expect(t.hub.io._nsps.has('/devices/late-class')).toBe(true);

    // A refused CONNECT to a registered class leaves the namespace as it was.
    const wrong = connectClient(t.base, '/devices/late-class', { deviceId, token: 'y'.repeat(20) });
    expect((await refused(wrong)).data).toEqual({ code: 'invalid_credentials' });

    device.disconnect();
    await expect.poll(() => t.hub.io._nsps.has('/devices/late-class'), { timeout: 2000 }).toBe(false);

    // Wrong credentials for a registered class whose namespace is gone: refused, and nothing is left behind.
    const again = connectClient(t.base, '/devices/late-class', { deviceId, token: 'z'.repeat(20) });
    expect((await refused(again)).data).toEqual({ code: 'invalid_credentials' });
    await expect.poll(() => t.hub.io._nsps.has('/devices/late-class'), { timeout: 2000 }).toBe(false);
  });
});

describe('unused namespace', () => {
  it('refuses a CONNECT to / with "Invalid namespace", counts it, and devices keep working', async () => {
    const t = await startHub();
    const device = await wellBehavedDevice(t, '127.0.0.2');

    const raw = await openRawSession(t.base);
    raw.ws.send('40');
    expect(await raw.next()).toBe('44{"message":"Invalid namespace"}');
    const main = connectClient(t.base, '/', {});
    expect((await refused(main)).message).toBe('Invalid namespace');
    expect(t.hub.io.sockets.sockets.size).toBe(0);

    expect(await metric(t.base, 'sitehub_refused_connections_total{namespace="main",code="invalid_namespace"}')).toBe(2);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });
  });
});
