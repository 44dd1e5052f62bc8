// Durability: the hub process is killed with SIGKILL in the middle of a
// telemetry stream; after a restart on the same data folder every reading
// that was acked is in the store.
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFor, closeClients, connectClient, connected, readings, registerDevice, ADMIN_TOKEN } from '../iot/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(root, 'hub/dist/main.js');
const children = new Set<ChildProcess>();
let dataDir: string;

/** Runs `sitehub` (the built command) as a child; resolves with its port once it listens. */
function startHubProcess(): Promise<{ child: ChildProcess; base: string }> {
  const child = fork(MAIN, ['--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--admin-token', ADMIN_TOKEN, '--log-level', 'warn'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hub process did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`hub process exited with ${code}`)));
    child.on('message', (msg: { type?: string; port?: number }) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${msg.port}` });
      }
    });
  });
}

beforeAll(() => {
  // The test runs the built command; make sure the build is current.
  execSync('npx tsc -b', { cwd: root, stdio: 'ignore' });
  dataDir = mkdtempSync(join(tmpdir(), 'sitehub-durability-'));
}, 120_000);

afterAll(() => {
  closeClients();
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('durability across SIGKILL', () => {
  it('keeps every acked reading', async () => {
    const first = await startHubProcess();
    const api = apiFor(first.base);
    const { deviceId, token } = await registerDevice(api);
    const device = connectClient(first.base, '/devices/thermo', { deviceId, token });
    await connected(device);

    const acked = new Set<number>();
    const BATCH = 50;
    const IN_FLIGHT = 4;
    let nextSeq = 1;
    let killed = false;
    // Several batches in flight at once, so that the kill lands between a commit and its ack for some of them.
    const lane = async () => {
      for (let round = 0; round < 10_000 && !killed; round++) {
        const batch = readings(nextSeq, BATCH);
        nextSeq += BATCH;
        try {
          const answer = await device.timeout(3000).emitWithAck('telemetry', batch);
          if (answer.ok) for (const r of batch) acked.add(r.seq);
        } catch {
          return; // the hub died: no ack for this batch
        }
      }
    };
    const lanes = Array.from({ length: IN_FLIGHT }, lane);
    const deadline = Date.now() + 10_000;
    while (acked.size < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    killed = true;
    await new Promise((r) => first.child.once('exit', r));
    await Promise.all(lanes);
    closeClients();
    expect(acked.size).toBeGreaterThanOrEqual(1000);

    const second = await startHubProcess();
    const api2 = apiFor(second.base);
    const stored = new Set<number>();
    let after = 0;
    for (let page = 0; page < 1000; page++) {
      const res = await api2('GET', `/api/devices/${deviceId}/telemetry?afterSeq=${after}&limit=10000`);
      expect(res.status).toBe(200);
      if (res.body.items.length === 0) break;
      for (const r of res.body.items) stored.add(r.seq);
      after = res.body.items[res.body.items.length - 1].seq;
    }
    const missing = [...acked].filter((seq) => !stored.has(seq));
    expect(missing).toEqual([]);
    // The restarted hub knows the device is not connected any more.
    expect((await api2('GET', `/api/devices/${deviceId}`)).body.online).toBe(false);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 60_000);
});
