// The REST API around the IoT services: auth, validation, OpenAPI, metrics,
// health, the Engine.IO path beside fastify's routes, graceful shutdown.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connected, readings, registerDevice, startHub } from './helpers.js';

afterEach(closeAll);

describe('REST API', () => {
  it('needs the admin bearer token on /api, not on health, metrics and the OpenAPI document', async () => {
    const { api, base } = await startHub();
    expect((await api('GET', '/api/sites', undefined, 'wrong')).status).toBe(401);
    expect((await fetch(base + '/api/sites')).status).toBe(401);
    expect((await api('GET', '/api/sites')).status).toBe(200);
    expect(await (await fetch(base + '/healthz')).json()).toEqual({ ok: true });
    expect(await (await fetch(base + '/readyz')).json()).toEqual({ ok: true, db: true, accepting: true, node: expect.stringMatching(/^node-/) });
    expect((await fetch(base + '/metrics')).status).toBe(200);
    expect((await fetch(base + '/nowhere')).status).toBe(404);
  });

  it('validates bodies and queries and answers { error, code }', async () => {
    const { api } = await startHub();
    const bad = await api('POST', '/api/classes', { id: 'Has Capitals' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'bad_request' } });
    expect((await api('POST', '/api/devices', { classId: 'nope', siteId: 'nope' })).body.code).toBe('unknown_class');
    await registerDevice(api, { deviceId: 'd1' });
    expect((await api('POST', '/api/devices', { id: 'd1', classId: 'thermo', siteId: 'site-a' })).status).toBe(409);
    expect((await api('GET', '/api/devices/d1/telemetry?limit=0')).status).toBe(400);
    expect((await api('GET', '/api/devices/ghost')).status).toBe(404);
    expect((await api('GET', '/api/devices/d1/telemetry/aggregate?metric=temp&interval=1&from=0&to=100000000')).status).toBe(400);
  });

  it('lists devices with filters and never shows tokens', async () => {
    const { api } = await startHub();
    await registerDevice(api, { deviceId: 'a1', classId: 'thermo', siteId: 'north' });
    await registerDevice(api, { deviceId: 'b1', classId: 'valve', siteId: 'north' });
    await registerDevice(api, { deviceId: 'c1', classId: 'valve', siteId: 'south' });
    const ids = async (q: string) => (await api('GET', `/api/devices${q}`)).body.items.map((d: { id: string }) => d.id);
    expect(await ids('')).toEqual(['a1', 'b1', 'c1']);
    expect(await ids('?siteId=north')).toEqual(['a1', 'b1']);
    expect(await ids('?classId=valve&siteId=south')).toEqual(['c1']);
    expect(await ids('?online=true')).toEqual([]);
    const listed = JSON.stringify((await api('GET', '/api/devices')).body);
    expect(listed).not.toMatch(/token/i);
  });

  it('serves an OpenAPI document built from the route schemas', async () => {
    const { base } = await startHub();
    const doc = await (await fetch(base + '/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/devices', '/api/devices/{deviceId}/telemetry', '/api/commands']));
    expect(doc.paths['/api/devices'].post.requestBody.content['application/json'].schema.required).toEqual(['classId', 'siteId']);
    expect(doc.paths['/api/devices/{deviceId}'].get.parameters[0]).toMatchObject({ name: 'deviceId', in: 'path', required: true });
  });

  it('exposes connections by namespace and transport, acks, store figures in Prometheus text', async () => {
    const { api, connect, base } = await startHub();
    const { deviceId, token } = await registerDevice(api);
    const device = connect('/devices/thermo', { deviceId, token }, { transports: ['polling'] });
    await connected(device);
    await device.timeout(5000).emitWithAck('telemetry', readings(1, 10));
    const text = await (await fetch(base + '/metrics')).text();
    expect(text).toContain('sitehub_connections{namespace="/devices/thermo",transport="polling"} 1');
    expect(text).toContain('sitehub_acks_sent_total{event="telemetry",outcome="ok"} 1');
    expect(text).toContain('sitehub_readings_stored_total 10');
    expect(text).toMatch(/sitehub_store_commit_ms_count [1-9]/);
    expect(text).toContain('sitehub_store_queue_depth 0');
    expect(text).toContain('# TYPE sitehub_engine_clients gauge');
  });
});

describe('shutdown', () => {
  it('closes sessions with "server shutting down", stores the devices offline, and a restart keeps everything', async () => {
    const first = await startHub();
    const { deviceId, token } = await registerDevice(first.api);
    const device = first.connect('/devices/thermo', { deviceId, token });
    await connected(device);
    await device.timeout(5000).emitWithAck('telemetry', readings(1, 5));
    const reason = new Promise((resolve) => device.on('disconnect', resolve));
    await first.hub.close();
    // As with socket.io: the server records "server shutting down"; the client sees its transport close.
    expect(await reason).toBe('transport close');

    const { createHub } = await import('@sitehub/hub');
    const again = createHub({ dataDir: first.dataDir, port: 0, host: '127.0.0.1', adminToken: 'another-admin-token', logLevel: 'silent' });
    await again.listen();
    try {
      const presence = await again.store.presence.history(deviceId, 10);
      expect(presence[0]).toMatchObject({ online: false, reason: 'server shutting down' });
      expect(await again.store.telemetry.count(deviceId)).toBe(5);
    } finally {
      await again.close();
    }
  });
});
