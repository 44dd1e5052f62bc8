// BAD-INPUTS.md edge rows "descriptor exhaustion" and "handshake flood", and
// trustProxy: the per-address limits see the forwarded address only when the
// proxy is trusted.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect, type Socket as TcpSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '@sitehub/hub';
import { closeAll, connectClient, connected, registerDevice, readings, startHub } from '../iot/helpers.js';
import { getFrom, metric, openMany, pollingHandshake, wellBehavedDevice } from './limits-helpers.js';

afterEach(closeAll);

const refusedMetric = (reason: string) => `sitehub_engine_refused_total{reason="${reason}"}`;

describe('descriptor exhaustion', () => {
  it('caps the sessions of one address; other addresses, /healthz and devices go on; idle sessions are closed at connectTimeout', async () => {
    const t = await startHub({
      maxSessionsPerAddress: 200,
      maxConnectionsPerAddress: 400,
      handshakeRatePerAddress: 0,
      // Pings every 500 ms; a generous timeout, so that a busy machine does not end these sessions for them.
      pingIntervalMs: 500,
      pingTimeoutMs: 5000,
      // The default: long enough for all 1000 attempts below to be made before the first session's time is up.
      connectTimeoutMs: 10_000,
    });
    const { open, refused } = await openMany(t.base, 1000, '127.0.0.1');
    expect(open.length).toBe(200);
    expect(refused.length).toBe(800);
    expect(new Set(refused)).toEqual(new Set([429]));

    // Held across several heartbeats: they answer pings, so only the limits keep them in check.
    await new Promise((r) => setTimeout(r, 1500));
    expect(open.every((s) => s.ws.readyState === s.ws.OPEN)).toBe(true);

    const device = await wellBehavedDevice(t, '127.0.0.2');
    expect(await getFrom(t.base, '/healthz', '127.0.0.3')).toBe(200);
    expect(await getFrom(t.base, '/healthz', '127.0.0.1')).toBe(200);
    expect(await metric(t.base, refusedMetric('max_sessions_per_address'))).toBe(800);

    // Sessions that never join a namespace are not held for long, and their places come back.
    await Promise.all(open.map((s) => s.closed));
    expect(await metric(t.base, 'sitehub_realtime_connect_timeouts_total')).toBe(200);
    expect(t.hub.io.engine.clientsCount).toBe(1);
    const again = await openMany(t.base, 10, '127.0.0.1', 5);
    expect(again.open.length).toBe(10);
    for (const s of again.open) s.ws.terminate();
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });
  }, 60_000);

  it('caps sessions in total with 503, and raw TCP connections per address and without a request in time', async () => {
    const t = await startHub({
      maxSessions: 300,
      maxSessionsPerAddress: 200,
      maxConnectionsPerAddress: 300,
      handshakeRatePerAddress: 0,
      // Long enough for all 600 raw connections below to be open before the first one times out.
      headersTimeoutMs: 3000,
      requestTimeoutMs: 5000,
      connectTimeoutMs: 60_000,
    });
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const first = await openMany(t.base, 200, '127.0.0.3');
    const second = await openMany(t.base, 200, '127.0.0.4');
    expect(first.open.length).toBe(200);
    expect(second.open.length).toBe(99);
    expect(second.refused.length).toBe(101);
    expect(new Set(second.refused)).toEqual(new Set([503]));
    expect(await metric(t.base, refusedMetric('max_sessions'))).toBe(101);
    expect(await getFrom(t.base, '/healthz', '127.0.0.5')).toBe(200);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });

    // Connections that never send a byte: the per-address cap closes the surplus at once, the
    // header timeout the rest.
    const started = performance.now();
    const sockets: TcpSocket[] = [];
    const closedAt: number[] = [];
    // In batches, so that the listen backlog never overflows: every connection reaches the server.
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, () => {
          const socket = tcpConnect({ host: '127.0.0.1', port: t.hub.port, localAddress: '127.0.0.6' });
          sockets.push(socket);
          socket.on('error', () => {});
          socket.once('close', () => closedAt.push(performance.now() - started));
          return new Promise((r) => socket.once('connect', r).once('close', r));
        }),
      );
    }
    expect(await getFrom(t.base, '/healthz', '127.0.0.5')).toBe(200);
    await expect.poll(() => closedAt.length, { timeout: 10_000, interval: 100 }).toBe(600);
    // Header timeout (3 s), with room for a loaded machine.
    expect(Math.max(...closedAt)).toBeLessThan(6000);
    expect(await metric(t.base, refusedMetric('max_connections_per_address'))).toBe(300);
    expect(await metric(t.base, refusedMetric('silent_connection'))).toBe(300);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(20, 1))).toMatchObject({ ok: true });
  }, 60_000);
});

describe('maxConnections', () => {
  it('closes TCP connections beyond the total at once, counts them, and serves again once there is room', async () => {
    const t = await startHub({ maxConnections: 50, maxConnectionsPerAddress: 0, headersTimeoutMs: 1500, requestTimeoutMs: 3000 });
    const closed: boolean[] = [];
    const sockets = await Promise.all(
      Array.from({ length: 60 }, () => {
        const socket = tcpConnect({ host: '127.0.0.1', port: t.hub.port, localAddress: '127.0.0.7' });
        socket.on('error', () => {});
        socket.once('close', () => closed.push(true));
        return new Promise<TcpSocket>((r) => socket.once('connect', () => r(socket)).once('close', () => r(socket)));
      }),
    );
    // The surplus is closed at once (nothing else may connect while the hub is full, /metrics included).
    await expect.poll(() => closed.length, { timeout: 1000 }).toBe(10);
    // The silent ones go after the header timeout; then the hub answers again.
    await expect.poll(() => closed.length, { timeout: 5000 }).toBe(60);
    expect(await getFrom(t.base, '/healthz', '127.0.0.5')).toBe(200);
    expect(await metric(t.base, refusedMetric('max_connections'))).toBe(10);
    for (const socket of sockets) socket.destroy();
  });
  it('counts the connections of every bound address (127.0.0.1 and ::1) against one total', async () => {
    const t = await startHub({ host: 'localhost', maxConnections: 20, maxConnectionsPerAddress: 0, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const closed: string[] = [];
    const open = (host: string) => {
      const socket = tcpConnect({ host, port: t.hub.port });
      socket.on('error', () => {});
      socket.once('close', () => closed.push(host));
      return new Promise<TcpSocket>((r) => socket.once('connect', () => r(socket)).once('close', () => r(socket)));
    };
    const v4 = await Promise.all(Array.from({ length: 15 }, () => open('127.0.0.1')));
    const v6 = await Promise.all(Array.from({ length: 15 }, () => open('::1')));
    // 30 connections, 20 places: 10 closed, whichever address they came to (the hub accepts them in
    // its own order). Were ::1's connections not counted, the 15 there would all stay open.
    await expect.poll(() => closed.length, { timeout: 1000 }).toBe(10);
    await new Promise((r) => setTimeout(r, 200));
    expect(closed.length).toBe(10);
    for (const socket of [...v4, ...v6]) socket.destroy();
    // Once the closes reach the hub it answers again; a scrape that came too early is refused and counted too.
    await expect.poll(async () => metric(t.base, refusedMetric('max_connections')).catch(() => -1), { timeout: 2000 }).toBeGreaterThanOrEqual(10);
  });
});

describe('handshake flood', () => {
  it('rate-limits 2,000 handshakes a second from one address; a device from another address connects meanwhile', async () => {
    const rate = 50;
    const burst = 50;
    const t = await startHub({ handshakeRatePerAddress: rate, handshakeBurstPerAddress: burst, maxSessionsPerAddress: 0, connectTimeoutMs: 60_000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const statuses: number[] = [];
    const started = performance.now();
    let sent = 0;
    const flood = (async () => {
      // 2,000 handshakes paced at 2,000 a second (or as fast as this machine goes).
      const workers = Array.from({ length: 32 }, async () => {
        while (sent < 2000) {
          const due = started + sent * 0.5;
          sent++;
          const wait = due - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          statuses.push((await pollingHandshake(t.base, { localAddress: '127.0.0.1', agent })).status);
        }
      });
      await Promise.all(workers);
    })();
    // The device registers and connects while the flood is on.
    await new Promise((r) => setTimeout(r, 100));
    const device = await wellBehavedDevice(t, '127.0.0.2');
    const deviceDoneDuringFlood = statuses.length < 2000;
    await flood;
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();

    const accepted = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    expect(accepted + limited).toBe(2000);
    expect(accepted).toBeGreaterThanOrEqual(burst);
    expect(accepted).toBeLessThanOrEqual(burst + Math.ceil(rate * seconds) + 1);
    expect(await metric(t.base, refusedMetric('handshake_rate'))).toBe(limited);
    expect(deviceDoneDuringFlood).toBe(true);
    expect(await device.timeout(5000).emitWithAck('telemetry', readings(10, 1))).toMatchObject({ ok: true });
    // WebSocket handshakes draw from the same kind of bucket.
    const ws = await openMany(t.base, 2 * burst, '127.0.0.1', 10);
    for (const s of ws.open) s.ws.terminate();
    expect(ws.refused.length).toBeGreaterThan(0);
    expect(new Set(ws.refused)).toEqual(new Set([429]));
    console.log(`handshake flood: ${statuses.length} handshakes in ${seconds.toFixed(2)} s, ${accepted} accepted, ${limited} refused with 429`);
  }, 60_000);
});

describe('trustProxy', () => {
  const forwarded = (ip: string) => ({ 'x-forwarded-for': ip });

  it('counts sessions per forwarded address when the proxy is trusted, and only then', async () => {
    const t = await startHub({ trustProxy: '127.0.0.1', maxSessionsPerAddress: 2, handshakeRatePerAddress: 0, connectTimeoutMs: 60_000 });
    const statuses = async (localAddress: string, ip: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await pollingHandshake(t.base, { localAddress, headers: forwarded(ip) })).status);
      return out;
    };
    // Through the trusted proxy: each forwarded client has its own share.
    expect(await statuses('127.0.0.1', '10.0.0.1', 3)).toEqual([200, 200, 429]);
    expect(await statuses('127.0.0.1', '10.0.0.2', 2)).toEqual([200, 200]);
    // A client that is not the proxy cannot pick its address.
    expect(await statuses('127.0.0.2', '10.0.0.3', 3)).toEqual([200, 200, 429]);
    const addresses = Object.values(t.hub.io.engine.clients).map((s) => s.remoteAddress).sort();
    expect(addresses).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2', '127.0.0.2', '127.0.0.2']);
    expect(await metric(t.base, refusedMetric('max_sessions_per_address'))).toBe(2);

    // socket.handshake.address and .secure come from the proxy's headers.
    const { deviceId, token } = await registerDevice(t.api, { deviceId: 'proxied' });
    const device = connectClient(t.base, '/devices/thermo', { deviceId, token }, { extraHeaders: { 'x-forwarded-for': '10.0.0.7', 'x-forwarded-proto': 'https' } });
    await connected(device);
    const handshake = t.hub.services.devices.socketOf(deviceId)!.handshake;
    expect(handshake.address).toBe('10.0.0.7');
    expect(handshake.secure).toBe(true);
  });

  it('gives fastify the same setting: req.ip and req.protocol follow a trusted proxy only', async () => {
    for (const [trustProxy, expected] of [
      ['127.0.0.1', { ip: '10.0.0.8', protocol: 'https' }],
      [false, { ip: '127.0.0.1', protocol: 'http' }],
    ] as const) {
      const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-trust-'));
      const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: 'test-admin-token-0123456789', logLevel: 'silent', trustProxy });
      hub.app.get('/test-client', { config: { auth: 'public' } }, async (req) => ({ ip: req.ip, protocol: req.protocol }));
      const { port } = await hub.listen();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/test-client`, { headers: { 'x-forwarded-for': '10.0.0.8', 'x-forwarded-proto': 'https' } });
        expect(await res.json()).toEqual(expected);
      } finally {
        await hub.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  });

  it('is read from flags, the environment and JSON; hop counts and malformed addresses are refused', async () => {
    const { loadConfig, DEFAULT_CONFIG } = await import('../../hub/src/config/index.js');
    expect(DEFAULT_CONFIG.trustProxy).toBe(false);
    expect(loadConfig(['--trust-proxy', 'true'], {}).config.trustProxy).toBe(true);
    expect(loadConfig(['--trust-proxy', 'false'], {}).config.trustProxy).toBe(false);
    expect(loadConfig([], { SITEHUB_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).config.trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadConfig(['--trust-proxy', '2'], {})).toThrow(/"trustProxy" must be .*hop counts are not accepted/);
    expect(() => loadConfig(['--trust-proxy', '10.0.0.300'], {})).toThrow(/"trustProxy" must be/);
  });

  it('ignores X-Forwarded-For by default', async () => {
    const t = await startHub({ maxSessionsPerAddress: 2, handshakeRatePerAddress: 0, connectTimeoutMs: 60_000 });
    const out: number[] = [];
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) out.push((await pollingHandshake(t.base, { localAddress: '127.0.0.1', headers: forwarded(ip) })).status);
    expect(out).toEqual([200, 200, 429]);
    expect(Object.values(t.hub.io.engine.clients).map((s) => s.remoteAddress)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(await metric(t.base, refusedMetric('max_sessions_per_address'))).toBe(1);

    const { deviceId, token } = await registerDevice(t.api, { deviceId: 'direct' });
    const device = connectClient(t.base, '/devices/thermo', { deviceId, token }, { extraHeaders: { 'x-forwarded-for': '10.0.0.7', 'x-forwarded-proto': 'https' }, localAddress: '127.0.0.2' } as never);
    await connected(device);
    const handshake = t.hub.services.devices.socketOf(deviceId)!.handshake;
    expect(handshake.address).toBe('127.0.0.2');
    expect(handshake.secure).toBe(false);
  });
});

describe('EngineServer on its own', () => {
  it('has the same limits as options, off by default', async () => {
    const { EngineServer } = await import('@sitehub/hub');
    const { createServer } = await import('node:http');
    const run = async (opts: Record<string, unknown>) => {
      const httpServer = createServer();
      const engine = new EngineServer(opts).attach(httpServer);
      await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${base}/engine.io/?EIO=4&transport=polling`);
        statuses.push(res.status);
        await res.text();
      }
      engine.close();
      httpServer.closeAllConnections();
      await new Promise((r) => httpServer.close(r));
      return { statuses, refused: Object.fromEntries(engine.metrics.refused) };
    };
    expect(await run({})).toEqual({ statuses: [200, 200, 200, 200], refused: {} });
    expect(await run({ maxSessionsPerAddress: 2 })).toEqual({ statuses: [200, 200, 429, 429], refused: { max_sessions_per_address: 2 } });
    expect(await run({ maxSessions: 3 })).toEqual({ statuses: [200, 200, 200, 503], refused: { max_sessions: 1 } });
    expect(await run({ handshakeRatePerAddress: 1, handshakeBurstPerAddress: 2 })).toEqual({ statuses: [200, 200, 429, 429], refused: { handshake_rate: 2 } });
  });
});
