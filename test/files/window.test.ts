// The hub's file window against the session's write bound: a device that
// grants more credit than the session may buffer (fileWindowChunks x
// fileChunkBytes above the engine's maxBufferedBytes) and then reads slowly
// must get at most what fits, not be cut off as a slow consumer in the middle
// of the transfer (which a resume would hide as slowness).
import { createHash, randomBytes } from 'node:crypto';
import type { Socket as NetSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../agent/helpers.js';
import { ADMIN_TOKEN, closeAll, connected, registerDevice, startHub } from '../iot/helpers.js';

afterEach(closeAll);

const CHUNK = 256 * 1024;

describe('file window', () => {
  it('sends no more chunks than the session may buffer, whatever the device grants, and keeps the device connected', async () => {
    // 32 x 256 KiB = 8 MiB of credit against the default 2 MB write bound of a session.
    const hub = await startHub({ fileChunkBytes: CHUNK, fileWindowChunks: 32 });
    const dev = await registerDevice(hub.api);
    const raw = hub.connect('/devices/thermo', { deviceId: dev.deviceId, token: dev.token });
    await connected(raw);
    const disconnects: string[] = [];
    raw.on('disconnect', (reason: string) => disconnects.push(reason));
    const chunks: number[] = [];
    raw.on('file:chunk', (c: { index: number }) => chunks.push(c.index));
    // The device's TCP socket, to stop reading while the hub sends (a slow link or a busy device).
    const tcp = (raw.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    raw.on('file:offer', (offer: { id: string }, ack: (a: unknown) => void) => {
      ack({ ok: true, have: 0 });
      raw.emit('file:credit', { id: offer.id, next: 0, credit: 32 });
      tcp.pause();
      setTimeout(() => tcp.resume(), 1500);
    });
    const bytes = randomBytes(40 * CHUNK);
    const res = await fetch(`${hub.base}/api/files?name=big.bin&deviceId=${dev.deviceId}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' }, body: bytes });
    expect(res.status).toBe(201);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe((await res.json()).file.sha256);
    await waitFor(() => chunks.length >= 8, 10_000, 'the first window of chunks');
    // Time for anything beyond the capped window to arrive, had the hub sent it.
    await new Promise((r) => setTimeout(r, 500));
    expect(disconnects).toEqual([]);
    expect(raw.connected).toBe(true);
    expect(chunks).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const text = await (await fetch(`${hub.base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(text).toMatch(/^sitehub_engine_slow_consumers_closed_total 0$/m);
  });
});
