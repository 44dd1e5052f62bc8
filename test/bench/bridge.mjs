// Benchmark: hub -> MQTT through sitehub-bridge, beside a raw mqtt.js
// publisher to the same Mosquitto in the same run (the broker's limit for one
// QoS 1 publisher). Processes: mosquitto, the hub (`node hub/dist/main.js`),
// the bridge (`node bridge/dist/main.js`); this process is the device
// (socket.io-client) and the persistent-session subscriber that counts.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import { fmt, printTable } from './lib/stats.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const config = {
  readings: Number(process.env.BENCH_READINGS ?? 20_000),
  batch: Number(process.env.BENCH_BATCH ?? 500),
  inflightBatches: Number(process.env.BENCH_INFLIGHT ?? 4),
};
const ADMIN = 'bench-admin-token-0123456789';

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const accepts = (port) =>
  new Promise((resolve) => {
    const c = tcpConnect({ port, host: '127.0.0.1' });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

async function startBroker(dir) {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\n`);
  const proc = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 25));
  return { port, url: `mqtt://127.0.0.1:${port}`, stop: () => new Promise((r) => (proc.once('exit', r), proc.kill())) };
}

function forkReady(script, args, env = {}) {
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  const stop = () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  return { child, ready, stop };
}

/** A subscriber that resolves when `target` distinct messages arrived. */
async function counter(url, topic) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bench-counter-' + Math.random().toString(36).slice(2), reconnectPeriod: 0 });
  await client.subscribeAsync(topic, { qos: 1 });
  let count = 0;
  let waiter;
  client.on('message', () => {
    count++;
    if (waiter && count >= waiter.target) waiter.resolve();
  });
  return {
    reset: () => (count = 0),
    waitFor: (target, timeoutMs) =>
      new Promise((resolve, reject) => {
        if (count >= target) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${count} of ${target} within ${timeoutMs} ms`)), timeoutMs);
        waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
      }),
    close: () => client.endAsync(),
  };
}

async function api(base, method, path, body) {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

async function throughBridge(dir, broker) {
  const hub = forkReady(join(ROOT, 'hub/dist/main.js'), ['--data-dir', join(dir, 'hub'), '--port', '0', '--host', '127.0.0.1', '--admin-token', ADMIN, '--log-level', 'warn']);
  const { port } = await hub.ready;
  const base = `http://127.0.0.1:${port}`;
  let bridge;
  try {
    await api(base, 'POST', '/api/sites', { id: 'bench' });
    await api(base, 'POST', '/api/classes', { id: 'meter' });
    const { token } = await api(base, 'POST', '/api/devices', { id: 'm-1', classId: 'meter', siteId: 'bench' });
    const bt = await api(base, 'POST', '/api/bridge-tokens', { name: 'bench' });
    const sub = await counter(broker.url, 'sitehub/bench/meter/m-1/telemetry');
    bridge = forkReady(join(ROOT, 'bridge/dist/main.js'), ['--hub-url', base, '--hub-token', bt.token, '--mqtt-url', broker.url, '--bridge-id', 'bench', '--queue-file', join(dir, 'queue.db'), '--health-port', '0', '--log-level', 'warn']);
    const { healthPort } = await bridge.ready;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => undefined);
      if (res?.status === 200) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const device = io(base + '/devices/meter', { auth: { deviceId: 'm-1', token }, transports: ['websocket'], forceNew: true });
    await new Promise((r) => device.once('connect', r));
    const t0 = Date.now() - 3_600_000;
    const start = process.hrtime.bigint();
    const pending = new Set();
    for (let first = 1; first <= config.readings; first += config.batch) {
      const batch = Array.from({ length: config.batch }, (_, i) => ({ seq: first + i, ts: t0 + first + i, values: { power: 1000 + i, v: 230 } }));
      const p = device.timeout(30_000).emitWithAck('telemetry', batch).finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= config.inflightBatches) await Promise.race(pending);
    }
    await Promise.all(pending);
    await sub.waitFor(config.readings, 120_000);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    device.close();
    await sub.close();
    return { path: 'device -> hub -> bridge -> mosquitto', messages: config.readings, seconds, perSecond: config.readings / seconds };
  } finally {
    await bridge?.stop();
    await hub.stop();
  }
}

async function rawPublisher(broker) {
  const sub = await counter(broker.url, 'raw/telemetry');
  const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'bench-raw', reconnectPeriod: 0 });
  const payload = JSON.stringify({ deviceId: 'm-1', seq: 123456, ts: Date.now(), values: { power: 1000, v: 230 } });
  const start = process.hrtime.bigint();
  const acks = [];
  for (let i = 0; i < config.readings; i++) acks.push(pub.publishAsync('raw/telemetry', payload, { qos: 1 }));
  await Promise.all(acks);
  await sub.waitFor(config.readings, 120_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await pub.endAsync();
  await sub.close();
  return { path: 'raw mqtt.js publisher -> mosquitto', messages: config.readings, seconds, perSecond: config.readings / seconds };
}

export async function run() {
  console.log(`\n## MQTT bridge: ${config.readings} QoS 1 telemetry messages (device batches of ${config.batch}, ${config.inflightBatches} in flight)\n`);
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-bench-bridge-'));
  const broker = await startBroker(dir);
  try {
    const raw = await rawPublisher(broker);
    const bridged = await throughBridge(dir, broker);
    printTable(
      ['path', 'messages', 'seconds', 'msgs/s'],
      [bridged, raw].map((r) => [r.path, r.messages, fmt(r.seconds), fmt(r.perSecond)]),
    );
    console.log(`\nratio bridge/raw: ${fmt(bridged.perSecond / raw.perSecond)}x (the bridged path includes the hub's durable ingest and the bridge's SQLite outbox)`);
    return [bridged, raw];
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
