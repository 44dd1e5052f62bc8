// Files (issue 21) on both databases: an operator's file streamed in through
// REST and delivered to every device of a class (the agent writes it
// atomically and runs its hook); a device's upload stored, listed and served;
// a corrupted chunk detected by the hub and sent again; limits and quotas
// refused and counted in /metrics.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HubConfig } from '@sitehub/hub';
import { io as deviceIo, uploadFile } from '@sitehub/device-client';
import { Agent } from '../../device-client/src/agent.js';
import { agentConfig, waitFor } from '../agent/helpers.js';
import { ADMIN_TOKEN, closeAll, connected, registerDevice, startHub as startHubOn } from '../iot/helpers.js';
import { HUB_DATABASES, stopPostgresCluster } from '../iot/store-backends.js';

const agents: Agent[] = [];
const dirs: string[] = [];
const sockets: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  for (const s of sockets.splice(0)) s.close();
  await closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(stopPostgresCluster);

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sitehub-files-'));
  dirs.push(d);
  return d;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function upload(base: string, query: string, body: Buffer): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/files?${query}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
  return { status: res.status, body: await res.json() };
}

async function metric(base: string, kind: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const m = new RegExp(`sitehub_bad_inputs_total\\{kind="${kind}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

describe.each(HUB_DATABASES)('files on $name', (db) => {
  const startHub = async (config: Partial<HubConfig> = {}) => startHubOn({ ...(await db.config()), ...config });

  it('delivers an operator file to every device of a class: written atomically, hook run, progress and outcome stored', async () => {
    const hub = await startHub({ fileChunkBytes: 64 * 1024 });
    const a = await registerDevice(hub.api, { deviceId: 'cam-1', classId: 'cams' });
    const b = await registerDevice(hub.api, { deviceId: 'cam-2', classId: 'cams' });
    const started: Agent[] = [];
    const folders: string[] = [];
    for (const dev of [a, b]) {
      const dir = tempDir();
      const hook = join(dir, 'hook.sh');
      writeFileSync(hook, `#!/bin/sh\necho "$1" >> ${join(dir, 'hook.log')}\n`);
      chmodSync(hook, 0o755);
      folders.push(dir);
      const agent = new Agent(
        agentConfig({ hub: { url: hub.base, deviceId: dev.deviceId, token: dev.token, class: 'cams' }, outbox: { path: join(dir, 'outbox.db') }, simulate: { sensors: 1, intervalMs: 1000, total: 0 }, files: { dir: join(dir, 'in'), hook } }, true),
      );
      agents.push(agent);
      started.push(agent);
    }
    // One agent is online when the file is uploaded, the other connects later.
    started[0]!.start();
    await waitFor(async () => (await hub.api('GET', '/api/devices/cam-1')).body.online, 5000, 'cam-1 online');
    const bytes = randomBytes(1_000_000 + 123);
    const created = await upload(hub.base, 'name=firmware.bin&classId=cams&kind=firmware', bytes);
    expect(created.status).toBe(201);
    expect(created.body.file).toMatchObject({ name: 'firmware.bin', size: bytes.length, sha256: sha(bytes), direction: 'to_device', kind: 'firmware' });
    expect(created.body.deliveries.map((d: { deviceId: string }) => d.deviceId)).toEqual(['cam-1', 'cam-2']);
    const fileId = created.body.file.id;
    started[1]!.start();
    const final = await waitFor(async () => {
      const r = (await hub.api('GET', `/api/files/${fileId}`)).body;
      return r.deliveries.every((d: { status: string }) => d.status === 'done') ? r : null;
    }, 15_000, 'both deliveries done');
    expect(final.deliveries).toMatchObject([{ confirmed: 16, chunks: 16, error: null }, { confirmed: 16, chunks: 16, error: null }]);
    for (const dir of folders) {
      expect(sha(readFileSync(join(dir, 'in', 'firmware.bin')))).toBe(sha(bytes));
      expect(readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n')).toEqual([join(dir, 'in', 'firmware.bin')]);
      expect(readdirSync(join(dir, 'in', '.partial'))).toEqual([]);
    }
    expect((await hub.api('GET', '/api/files?direction=to_device')).body.items.map((f: { id: string }) => f.id)).toEqual([fileId]);
  }, 30_000);

  it('stores a device upload, lists it and serves it; a corrupted chunk is detected and sent again', async () => {
    const hub = await startHub({ fileChunkBytes: 16 * 1024 });
    const dev = await registerDevice(hub.api);
    const dir = tempDir();
    const png = randomBytes(100_000);
    const path = join(dir, 'snap.png');
    writeFileSync(path, png);
    const socket = deviceIo(`${hub.base}/devices/thermo`, { auth: { deviceId: dev.deviceId, token: dev.token }, transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const done = await uploadFile(socket, path, { kind: 'snapshot', contentType: 'image/png' });
    expect(done).toMatchObject({ ok: true, sha256: sha(png) });
    const listed = (await hub.api('GET', `/api/files?direction=from_device&deviceId=${dev.deviceId}`)).body.items;
    expect(listed).toMatchObject([{ id: done.fileId, name: 'snap.png', size: png.length, direction: 'from_device', deviceId: dev.deviceId, kind: 'snapshot', contentType: 'image/png' }]);
    const content = await fetch(`${hub.base}/api/files/${done.fileId}/content`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(content.headers.get('content-type')).toBe('image/png');
    expect(content.headers.get('content-security-policy')).toContain('sandbox');
    expect(sha(Buffer.from(await content.arrayBuffer()))).toBe(sha(png));

    // A plain Socket.IO client following the documented events, corrupting chunk 2 once.
    socket.close(); // one session per device: the raw one would be replaced by the reconnecting client
    const raw = hub.connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(raw);
    const log = randomBytes(70_000);
    // The hub grants credit right after its ack: the listener must be there first.
    const sent: number[] = [];
    let corrupted = false;
    const outcome = new Promise<any>((resolve) => raw.on('file:done', resolve));
    let next = 0;
    raw.on('file:credit', (c: { next: number; credit: number; resend?: boolean }) => {
      if (c.resend) next = c.next;
      while (next < Math.min(c.next + c.credit, 5)) {
        const data = log.subarray(next * 16384, (next + 1) * 16384);
        const body = next === 2 && !corrupted ? Buffer.from(data).fill(0, 100, 200) : data;
        if (next === 2) corrupted = true;
        raw.emit('file:chunk', { id: 'log-1', index: next, crc: crc32(data), data: body });
        sent.push(next++);
      }
    });
    const ack = await raw.timeout(5000).emitWithAck('file:upload', { id: 'log-1', name: 'agent.log', size: log.length, sha256: sha(log), contentType: 'text/plain', kind: 'log' });
    expect(ack).toEqual({ ok: true, have: 0, chunkSize: 16 * 1024 });
    expect(await outcome).toMatchObject({ id: 'log-1', ok: true, sha256: sha(log) });
    expect(sent.filter((i) => i === 2)).toHaveLength(2);
    expect(await metric(hub.base, 'file_chunk_corrupt')).toBe(1);
  }, 30_000);

  it('refuses files over the size limit and over the quota, through REST and from devices, and counts it', async () => {
    const hub = await startHub({ fileMaxBytes: 50_000, fileDeviceQuotaBytes: 60_000 });
    const dev = await registerDevice(hub.api);
    const tooBig = await upload(hub.base, `name=big.bin&deviceId=${dev.deviceId}`, randomBytes(50_001));
    expect(tooBig).toMatchObject({ status: 413, body: { code: 'file_too_large' } });
    expect(readdirSync(join(hub.dataDir, 'files', '.incoming'))).toEqual([]);
    expect((await upload(hub.base, 'name=../etc&deviceId=x', randomBytes(10))).body.code).toBe('file_name');
    const raw = hub.connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(raw);
    const ask = (size: number, id: string) => raw.timeout(5000).emitWithAck('file:upload', { id, name: 'x.log', size, sha256: 'a'.repeat(64), contentType: 'text/plain', kind: 'log' });
    expect(await ask(50_001, 'u1')).toMatchObject({ ok: false, code: 'file_too_large' });
    const dir = tempDir();
    const path = join(dir, 'a.log');
    writeFileSync(path, randomBytes(40_000));
    const socket = deviceIo(`${hub.base}/devices/thermo`, { auth: { deviceId: dev.deviceId, token: dev.token }, transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    // The device-client session replaces the raw one (one session per device).
    expect((await uploadFile(socket, path, { kind: 'log', contentType: 'text/plain' })).ok).toBe(true);
    expect(await socket.timeout(5000).emitWithAck('file:upload', { id: 'u2', name: 'x.log', size: 30_000, sha256: 'a'.repeat(64), contentType: 'text/plain', kind: 'log' })).toMatchObject({ ok: false, code: 'file_quota' });
    expect(await metric(hub.base, 'file_too_large')).toBe(2);
    expect(await metric(hub.base, 'file_quota')).toBe(1);
    expect(existsSync(join(hub.dataDir, 'files'))).toBe(true);
  }, 30_000);

  it('survives hostile file events: unknown ids, chunks beyond the credit or not binary, garbage credits and outcomes', async () => {
    const hub = await startHub({ fileChunkBytes: 16 * 1024, fileWindowChunks: 2 });
    const dev = await registerDevice(hub.api);
    const raw = hub.connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(raw);
    raw.emit('file:chunk', { id: 'nope', index: 0, crc: 0, data: Buffer.alloc(10) });
    raw.emit('file:chunk', null);
    raw.emit('file:credit', { id: 'nope', next: -1, credit: 1e9 });
    raw.emit('file:credit', 'x');
    raw.emit('file:done', { id: { toString: 1 } });
    const data = randomBytes(100_000);
    const credits: unknown[] = [];
    raw.on('file:credit', (c: unknown) => credits.push(c));
    expect(await raw.timeout(5000).emitWithAck('file:upload', { id: 'h1', name: 'h.bin', size: data.length, sha256: sha(data), contentType: 'application/octet-stream', kind: 'log' })).toMatchObject({ ok: true, have: 0 });
    // Beyond the credit of 2 chunks, out of order, and not binary: all dropped.
    for (const index of [0, 1, 2, 3, 5]) raw.emit('file:chunk', { id: 'h1', index, crc: crc32(data.subarray(index * 16384, (index + 1) * 16384)), data: data.subarray(index * 16384, (index + 1) * 16384) });
    await waitFor(() => credits.length >= 3, 5000, 'credits for chunks 0 and 1');
    raw.emit('file:chunk', { id: 'h1', index: 2, crc: 1, data: 'not binary' });
    expect(await raw.timeout(5000).emitWithAck('file:upload', { id: 'h1', name: 'h.bin', size: data.length, sha256: sha(data), contentType: 'application/octet-stream', kind: 'log' })).toMatchObject({ ok: false, code: 'file_busy' });
    expect(await raw.timeout(5000).emitWithAck('file:upload', { id: '../x', name: 'h.bin', size: 1, sha256: sha(data), contentType: 'text/plain', kind: 'log' })).toMatchObject({ ok: false, code: 'file_shape' });
    expect(await metric(hub.base, 'file_unknown')).toBeGreaterThanOrEqual(4);
    expect(await metric(hub.base, 'file_chunk_order')).toBeGreaterThanOrEqual(3);
    expect(await metric(hub.base, 'file_chunk_corrupt')).toBe(1);
    // The session and the hub still work.
    expect(await raw.timeout(5000).emitWithAck('state', { ok: 1 })).toEqual({ ok: true });
    expect((await hub.api('GET', '/healthz')).status).toBe(200);
  });

  it('deletes stored files and abandoned partial uploads after fileRetentionDays, not before', async () => {
    const hub = await startHub({ fileRetentionDays: 2 });
    const dev = await registerDevice(hub.api);
    const raw = hub.connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(raw);
    // An upload that never finishes leaves a partial file.
    expect(await raw.timeout(5000).emitWithAck('file:upload', { id: 'never', name: 'x.log', size: 100_000, sha256: 'b'.repeat(64), contentType: 'text/plain', kind: 'log' })).toMatchObject({ ok: true });
    raw.close();
    const stored = await upload(hub.base, 'name=old.bin', randomBytes(1000));
    const fileId = stored.body.file.id;
    const { files } = hub.hub.services;
    expect(await files.sweep(Date.now() + 86_400_000)).toBe(0);
    expect((await hub.api('GET', `/api/files/${fileId}`)).status).toBe(200);
    expect(await files.sweep(Date.now() + 3 * 86_400_000)).toBe(2);
    expect((await hub.api('GET', `/api/files/${fileId}`)).status).toBe(404);
    expect(existsSync(join(hub.dataDir, 'files', fileId))).toBe(false);
    expect(readdirSync(join(hub.dataDir, 'files', '.incoming'))).toEqual([]);
  });
});
