// Benchmark: what the edge agent costs on a small device, next to a minimal
// agent built on socket.io-client (reads the same pty lines, stores nothing):
// RSS with one serial port (a socat pty) and an empty outbox, CPU at 100
// readings per second, and the replay rate of a 100,000-reading backlog.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './lib/child.mjs';
import { fmt, printTable } from './lib/stats.mjs';

const CHILD = fileURLToPath(new URL('./agent-footprint-child.mjs', import.meta.url));
const ADMIN = 'bench-admin-token-0123456789';
const RATE = 100;
const CPU_SECONDS = 10;
const BACKLOG = 100_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startPty(dir, name) {
  const device = join(dir, `${name}-device`);
  const sensor = join(dir, `${name}-sensor`);
  const child = spawn('/usr/bin/socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${sensor}`], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(sensor); i++) await sleep(10);
  return { device, sensor, stop: () => child.kill('SIGTERM') };
}

/** Throws unless the hub stored seq `last` of `deviceId` (a replay figure only counts when it arrived). */
async function assertStored(base, deviceId, last) {
  const res = await fetch(`${base}/api/devices/${deviceId}/telemetry?afterSeq=${last - 1}&limit=1`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = await res.json();
  if (body.items?.[0]?.seq !== last) throw new Error(`${deviceId}: seq ${last} not stored`);
}

async function register(base, id) {
  const call = (method, path, body) =>
    fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  await call('POST', '/api/sites', { id: 'bench' });
  await call('POST', '/api/classes', { id: 'bench' });
  return (await call('POST', '/api/devices', { classId: 'bench', siteId: 'bench', id })).token;
}

/** Writes RATE JSON lines per second to the pty for `seconds`. */
async function feed(sensor, seconds) {
  const file = await open(sensor, 'w');
  const start = performance.now();
  for (let i = 0; i < RATE * seconds; i++) {
    await file.write(`{"temp":${(20 + (i % 50) / 10).toFixed(1)},"rh":40,"n":${i}}\n`);
    const due = start + ((i + 1) * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await file.close();
}

async function measure(impl, base, dir) {
  const pty = await startPty(dir, impl);
  const deviceId = `${impl.replace(/\W/g, '')}-dev`;
  const token = await register(base, deviceId);
  const hubCfg = { url: base, deviceId, token, class: 'bench' };
  const config = {
    hub: hubCfg,
    sources: [{ name: 'serial', path: pty.device, parser: { type: 'json-lines' } }],
    batch: { size: 100, intervalMs: 1000 },
    outbox: { path: join(dir, `${impl}-outbox.db`) },
    logLevel: 'warn',
  };
  const child = startServerProcess(CHILD, [impl, JSON.stringify(config)]);
  try {
    await child.ready;
    await sleep(1000);
    const idle = await child.request('stats');
    const before = await child.request('cpu');
    await feed(pty.sensor, CPU_SECONDS);
    await sleep(1500);
    const after = await child.request('cpu');
    return { impl, rss: idle.rss, cpuPct: ((after.cpu - before.cpu) / CPU_SECONDS) * 100, acked: after.acked - before.acked };
  } finally {
    await child.stop();
    pty.stop();
  }
}

async function replaySitehub(base, dir) {
  const { Outbox } = await import('../../device-client/dist/outbox.js');
  const deviceId = 'replay-sitehub';
  const token = await register(base, deviceId);
  const path = join(dir, 'replay-outbox.db');
  const outbox = new Outbox(path);
  const ts = Date.now();
  for (let i = 0; i < BACKLOG; i += 10_000) outbox.append(Array.from({ length: 10_000 }, (_, k) => ({ ts, values: { temp: 21.5, rh: 40, i: i + k } })));
  outbox.close();
  const config = {
    hub: { url: base, deviceId, token, class: 'bench' },
    batch: { size: 1000, intervalMs: 100, maxInFlight: 4 },
    outbox: { path, replayRatePerSec: 1_000_000 },
    simulate: { sensors: 1, intervalMs: 3_600_000, total: BACKLOG },
    logLevel: 'warn',
  };
  const child = startServerProcess(CHILD, ['sitehub', JSON.stringify(config)]);
  try {
    await child.ready;
    const t0 = performance.now();
    for (let i = 0; i < 6000; i++) {
      const s = await child.request('cpu');
      if (s.depth === 0) break;
      await sleep(20);
    }
    const seconds = (performance.now() - t0) / 1000;
    await assertStored(base, deviceId, BACKLOG);
    return { seconds };
  } finally {
    await child.stop();
  }
}

async function replayMinimal(base) {
  const deviceId = 'replay-minimal';
  const token = await register(base, deviceId);
  const config = { hub: { url: base, deviceId, token, class: 'bench' } };
  const child = startServerProcess(CHILD, ['socket.io-client', JSON.stringify(config)]);
  try {
    await child.ready;
    const result = await child.request('replay', { count: BACKLOG, batchSize: 1000, inFlight: 4 });
    await assertStored(base, deviceId, BACKLOG);
    return result;
  } finally {
    await child.stop();
  }
}

export async function run() {
  console.log('\n## Agent footprint: one serial port (socat pty), 100 readings/s, 100,000-reading replay\n');
  const { createHub } = await import('@sitehub/hub');
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-bench-agent-'));
  const hub = createHub({ dataDir: join(dir, 'hub'), port: 0, host: '127.0.0.1', adminToken: ADMIN, logLevel: 'warn' });
  const { port } = await hub.listen();
  const base = `http://127.0.0.1:${port}`;
  try {
    const rows = [];
    for (const impl of ['sitehub', 'socket.io-client']) rows.push(await measure(impl, base, dir));
    const replay = { sitehub: await replaySitehub(base, dir), minimal: await replayMinimal(base) };
    printTable(
      ['agent', 'RSS idle (1 port, empty outbox)', `CPU at ${RATE} readings/s`, 'readings acked', 'replay 100k: s', 'replay rate'],
      rows.map((r) => {
        const rep = r.impl === 'sitehub' ? replay.sitehub : replay.minimal;
        return [
          r.impl === 'sitehub' ? 'sitehub-agent (outbox)' : 'minimal socket.io-client (no outbox)',
          `${fmt(r.rss / 2 ** 20, 1)} MiB`,
          `${fmt(r.cpuPct, 2)} %`,
          String(r.acked),
          fmt(rep.seconds, 2),
          `${fmt(BACKLOG / rep.seconds, 0)} /s`,
        ];
      }),
    );
    return { rows, replay };
  } finally {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
