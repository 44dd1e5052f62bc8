// A 50 MB upload from a real agent process (command `upload`): the file is
// stored whole and verified, and the agent's RSS stays bounded by the hub's
// chunk window, not by the file: it reads one chunk at a time as the hub
// grants credit, and hashes the file first through one reused buffer (a read
// stream there left +36 MB of uncollected buffers behind).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../agent/helpers.js';
import { closeAll, registerDevice, startHub } from '../iot/helpers.js';

const SIZE = 50 * 1024 * 1024;
const CHUNK = 256 * 1024;
/** The hub grants an uploading device this many chunks at a time. */
const WINDOW = 8;

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
  await closeAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A figure from /proc/<pid>/status, in kB. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

describe('a 50 MB upload from the agent', () => {
  it('is stored whole, with the agent RSS bounded by the window', async () => {
    const hub = await startHub({ fileChunkBytes: CHUNK, fileWindowChunks: WINDOW });
    const dev = await registerDevice(hub.api, { deviceId: 'pi-up', classId: 'pis' });
    dir = mkdtempSync(join(tmpdir(), 'sitehub-upload-memory-'));
    mkdirSync(join(dir, 'out'));
    const bytes = randomBytes(SIZE);
    writeFileSync(join(dir, 'out', 'big.log'), bytes);
    const config = join(dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        hub: { url: hub.base, deviceId: dev.deviceId, token: dev.token, class: 'pis' },
        simulate: { sensors: 1, intervalMs: 1000 },
        outbox: { path: join(dir, 'outbox.db') },
        files: { dir: join(dir, 'in'), uploadDir: join(dir, 'out') },
        logLevel: 'warn',
      }),
    );
    child = spawn(process.execPath, ['device-client/bin/sitehub-agent.js', '--config', config, '--simulate'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitFor(async () => (await hub.api('GET', `/api/devices/${dev.deviceId}`)).body.online, 10_000, 'agent online');
    await new Promise((r) => setTimeout(r, 500));
    const baselineKb = procStatus(child.pid!, 'VmRSS');

    const cmd = await hub.api('POST', '/api/commands', { deviceId: dev.deviceId, name: 'upload', params: { name: 'big.log', kind: 'log', contentType: 'text/plain' } });
    expect(cmd.status).toBe(201);
    let peakKb = 0;
    const stored = await waitFor(
      async () => {
        peakKb = Math.max(peakKb, procStatus(child!.pid!, 'VmRSS'));
        return (await hub.api('GET', `/api/files?direction=from_device&deviceId=${dev.deviceId}`)).body.items[0];
      },
      60_000,
      'the upload stored',
    );
    peakKb = Math.max(peakKb, procStatus(child.pid!, 'VmHWM'));
    expect(stored).toMatchObject({ name: 'big.log', size: SIZE, sha256: createHash('sha256').update(bytes).digest('hex') });

    const growthMb = (peakKb - baselineKb) / 1024;
    // As for files to the agent (resume.test.ts): a fixed 8 MB plus 6 windows (here the hub's, 8 x 256 KiB).
    const boundMb = 8 + (6 * WINDOW * CHUNK) / 1048576;
    console.log(`agent RSS during a ${SIZE / 1048576} MB upload: ${(baselineKb / 1024).toFixed(1)} MB before, +${growthMb.toFixed(1)} MB at the peak (bound ${boundMb} MB)`);
    expect(growthMb).toBeLessThan(boundMb);
  }, 90_000);
});
