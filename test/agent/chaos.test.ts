// Chaos: the agent (a child process, synthetic sensors flat out) streams
// 20,000 readings while the hub process is restarted twice (frozen with
// batches in flight then SIGKILLed, then SIGTERM) and the agent is SIGKILLed twice. Afterwards the hub holds exactly
// seqs 1..20,000: nothing lost, nothing twice.
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, apiFor, registerDevice } from '../iot/helpers.js';
import { storedReadings, waitFor } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const HUB_MAIN = join(root, 'hub/dist/main.js');
const AGENT_MAIN = join(root, 'device-client/dist/main.js');
const TOTAL = 20_000;
const children = new Set<ChildProcess>();
let dir: string;

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Starts `sitehub` on `port` (0 the first time); resolves with the port it listens on. */
function startHub(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    fork(HUB_MAIN, ['--data-dir', join(dir, 'hub'), '--port', String(port), '--host', '127.0.0.1', '--admin-token', ADMIN_TOKEN, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hub did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}`)));
    child.on('message', (msg: { type?: string; port?: number }) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, port: msg.port! });
      }
    });
  });
}

function startAgent(configFile: string): ChildProcess {
  return track(fork(AGENT_MAIN, ['--config', configFile, '--simulate'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

beforeAll(() => {
  execSync('npx tsc -b', { cwd: root, stdio: 'ignore' });
  dir = mkdtempSync(join(tmpdir(), 'sitehub-agent-chaos-'));
}, 120_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('agent chaos', () => {
  it('delivers exactly 20,000 readings through two hub restarts and two agent SIGKILLs', async () => {
    const started = Date.now();
    let hub = await startHub(0);
    const port = hub.port;
    const api = apiFor(`http://127.0.0.1:${port}`);
    const { deviceId, token } = await registerDevice(api, { classId: 'sim' });
    const configFile = join(dir, 'agent.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        hub: { url: `http://127.0.0.1:${port}`, deviceId, token, class: 'sim' },
        simulate: { sensors: 20, intervalMs: 1, total: TOTAL },
        batch: { size: 250, intervalMs: 50, maxInFlight: 4, ackTimeoutMs: 2000 },
        outbox: { path: join(dir, 'outbox.db'), replayRatePerSec: 6000 },
        reconnect: { delayMs: 50, delayMaxMs: 300 },
        logLevel: 'warn',
      }),
    );
    let agent = startAgent(configFile);
    /** True once the hub has stored a reading with seq >= `seq` (sending is oldest first). */
    const reached = (seq: number) => async () => {
      const res = await api('GET', `/api/devices/${deviceId}/telemetry?afterSeq=${seq - 1}&limit=1`).catch(() => null);
      return res?.status === 200 && res.body.items.length > 0;
    };

    await waitFor(reached(2000), 15_000, 'seq 2000 stored');
    await kill(agent, 'SIGKILL');
    agent = startAgent(configFile);

    await waitFor(reached(6000), 15_000, 'seq 6000 stored');
    // Frozen first, so that batches are in flight and unacked when the hub dies.
    hub.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 300));
    await kill(hub.child, 'SIGKILL');
    hub = await startHub(port);

    await waitFor(reached(10_000), 15_000, 'seq 10000 stored');
    await kill(agent, 'SIGKILL');
    agent = startAgent(configFile);

    await waitFor(reached(14_000), 15_000, 'seq 14000 stored');
    await kill(hub.child, 'SIGTERM');
    hub = await startHub(port);

    const stored = await waitFor(async () => {
      const r = await storedReadings(api, deviceId).catch(() => []);
      return r.length >= TOTAL ? r : null;
    }, 30_000, `${TOTAL} readings stored`);
    const seqs = stored.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBe(TOTAL);
    expect(seqs[0]).toBe(1);
    expect(seqs[seqs.length - 1]).toBe(TOTAL);
    // The agent's state reports an empty outbox once it has caught up.
    await waitFor(async () => {
      await api('POST', '/api/commands', { deviceId, name: 'get-state' });
      const list = await api('GET', `/api/commands?deviceId=${deviceId}&status=acked&limit=1`);
      return list.body.items?.[0]?.result?.['outbox.depth'] === 0;
    }, 10_000, 'agent outbox empty');
    expect(Date.now() - started).toBeLessThan(60_000);
    await kill(agent, 'SIGTERM');
    await kill(hub.child, 'SIGTERM');
  }, 90_000);
});
