// A 50 MB file to a real agent process over a link that drops three times
// mid-transfer and corrupts one chunk in transit: it arrives once (the hook
// runs once), each reconnect resumes from the chunks the agent confirmed
// rather than from the start, the corrupted chunk is detected and sent
// again, the SHA-256 matches, and the agent's memory stays bounded by its
// chunk window (8 MB + 6 windows), not by the file nor by how far it got
// (its RSS is read from /proc while the transfer runs, and its peak at the end).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../agent/helpers.js';
import { ADMIN_TOKEN, closeAll, registerDevice, startHub } from '../iot/helpers.js';
import { startProxy, type LinkProxy } from './proxy.js';

const SIZE = 50 * 1024 * 1024;
const CHUNK = 256 * 1024;
const WINDOW = 4;

let child: ChildProcess | undefined;
let proxy: LinkProxy | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
  await proxy?.close();
  proxy = undefined;
  await closeAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A figure from /proc/<pid>/status, in kB. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

async function chunksSent(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const m = /sitehub_events_out_total\{namespace="device",event="file:chunk"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('a 50 MB file over a bad link', () => {
  it('arrives once, resumed after three drops, a corrupted chunk sent again, verified, with the agent RSS bounded', async () => {
    const hub = await startHub({ fileChunkBytes: CHUNK });
    const dev = await registerDevice(hub.api, { deviceId: 'pi-1', classId: 'pis' });
    proxy = await startProxy(Number(new URL(hub.base).port));
    dir = mkdtempSync(join(tmpdir(), 'sitehub-resume-'));
    const hook = join(dir, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$1" >> ${join(dir, 'hook.log')}\n`);
    chmodSync(hook, 0o755);
    const config = join(dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        hub: { url: `http://127.0.0.1:${proxy.port}`, deviceId: dev.deviceId, token: dev.token, class: 'pis' },
        simulate: { sensors: 1, intervalMs: 1000 },
        outbox: { path: join(dir, 'outbox.db') },
        reconnect: { delayMs: 50, delayMaxMs: 200 },
        files: { dir: join(dir, 'in'), hook, windowChunks: WINDOW },
        logLevel: 'info',
      }),
    );
    child = spawn(process.execPath, ['device-client/bin/sitehub-agent.js', '--config', config, '--simulate'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const logs: Array<Record<string, unknown>> = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          /* not a log line */
        }
      }
    });
    await waitFor(async () => (await hub.api('GET', `/api/devices/${dev.deviceId}`)).body.online, 10_000, 'agent online');
    await new Promise((r) => setTimeout(r, 500));
    const baselineKb = procStatus(child.pid!, 'VmRSS');

    const bytes = randomBytes(SIZE);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // The 20th chunk frame to the agent gets one byte flipped on the way.
    const corrupted = proxy.corruptFrame(20, CHUNK);
    const startBytes = proxy.downBytes;
    const res = await fetch(`${hub.base}/api/files?name=image.bin&deviceId=${dev.deviceId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(res.status).toBe(201);
    const fileId = ((await res.json()) as { file: { id: string } }).file.id;

    // Cut the link at a quarter, a half and three quarters of the bytes.
    let drops = 0;
    let peakKb = 0;
    /** Peak RSS in each quarter of the transfer (between drops). */
    const quarterPeaksKb = [0, 0, 0, 0];
    const delivery = await waitFor(
      async () => {
        const rss = procStatus(child!.pid!, 'VmRSS');
        peakKb = Math.max(peakKb, rss);
        quarterPeaksKb[drops] = Math.max(quarterPeaksKb[drops]!, rss);
        const sent = proxy!.downBytes - startBytes;
        if (drops < 3 && sent > ((drops + 1) * SIZE) / 4) {
          proxy!.drop();
          drops++;
        }
        const d = (await hub.api('GET', `/api/files/${fileId}`)).body.deliveries[0];
        return d.status === 'done' || d.status === 'failed' ? d : null;
      },
      50_000,
      'the delivery to finish',
    ).catch(async (err) => {
      console.log('DEBUG', drops, proxy!.downBytes - startBytes, JSON.stringify((await hub.api('GET', `/api/files/${fileId}`)).body), JSON.stringify(logs.slice(-15)));
      throw err;
    });
    const hwmKb = procStatus(child.pid!, 'VmHWM');
    await corrupted;
    expect(drops).toBe(3);
    expect(delivery).toMatchObject({ status: 'done', confirmed: SIZE / CHUNK, chunks: SIZE / CHUNK, error: null });
    expect(createHash('sha256').update(readFileSync(join(dir, 'in', 'image.bin'))).digest('hex')).toBe(sha256);
    expect(readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n')).toHaveLength(1);

    // Resumed, not restarted: each offer after a drop started where the agent was, and the hub sent
    // the file once plus at most its window again per drop and per corrupted chunk.
    const offers = logs.filter((l) => l.msg === 'file offer' || l.msg === 'file offer: resuming').map((l) => l.have as number);
    expect(offers.length).toBe(4);
    expect(offers[0]).toBe(0);
    for (let i = 1; i < offers.length; i++) expect(offers[i]!).toBeGreaterThan(offers[i - 1]!);
    expect(logs.filter((l) => l.msg === 'corrupt chunk: asking for it again')).toHaveLength(1);
    const sent = await chunksSent(hub.base);
    const chunks = SIZE / CHUNK;
    expect(sent).toBeGreaterThanOrEqual(chunks + 1);
    expect(sent).toBeLessThanOrEqual(chunks + 4 * 8);

    const growthMb = (Math.max(peakKb, hwmKb) - baselineKb) / 1024;
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    console.log(
      `agent RSS: ${mb(baselineKb)} MB before, peak ${mb(Math.max(peakKb, hwmKb))} MB (+${growthMb.toFixed(1)} MB) for a ${SIZE / 1048576} MB file, ` +
        `window ${WINDOW} x ${CHUNK / 1024} KiB (bound 8 MB + 6 windows = ${(8 + (6 * WINDOW * CHUNK) / 1048576).toFixed(1)} MB); peak per quarter ${quarterPeaksKb.map(mb).join(', ')} MB; chunks sent ${sent} for ${chunks}; offers from ${offers.join(', ')}`,
    );
    // What the agent may hold: its window of chunks, each in a few copies at once (the socket's reads, the
    // frame ws assembles from them, the chunk being written) plus those written since its last young-generation
    // GC, which it runs every window of bytes (device-client/src/files/young-gc.ts): measured at about 4 windows
    // (+4.2 MB at 1 chunk, +6.7 MB at 4, +19.8 MB at 16, for 10 to 200 MB files). Plus a fixed allowance for
    // what does not depend on the transfer: V8 growing its young generation to full size on the first busy
    // second (heapTotal 11 -> 16.5 MB) and the reconnects. Holding the file, or anything that grows with the
    // bytes received (as re-hashing the partial file through a read stream on resume did: +37 MB), fails.
    const fixedMb = 8;
    const boundMb = fixedMb + (6 * WINDOW * CHUNK) / 1048576;
    expect(growthMb).toBeLessThan(boundMb);
  }, 60_000);
});
