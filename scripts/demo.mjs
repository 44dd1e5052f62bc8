#!/usr/bin/env node
// `npm run demo`: a hub on 127.0.0.1 (port $DEMO_PORT, default 3000) with a
// fresh data dir, three simulated agents (`sitehub-agent --simulate`) on two
// sites, and — when a `mosquitto` binary is found — a broker on a free
// loopback port mirrored by `sitehub-bridge`. Prints the console's address
// and the admin token; Ctrl-C stops everything and removes the data dir.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const HUB_MAIN = join(root, 'hub/dist/main.js');
const AGENT_MAIN = join(root, 'device-client/dist/main.js');
const BRIDGE_MAIN = join(root, 'bridge/dist/main.js');
const CONSOLE_INDEX = join(root, 'web-console/dist/index.html');
const port = Number(process.env.DEMO_PORT ?? 3000);
const host = '127.0.0.1';
const url = `http://${host}:${port}`;

const DEVICES = [
  { id: 'th-north-1', classId: 'thermostat', siteId: 'plant-north', name: 'North hall thermostat' },
  { id: 'air-north-1', classId: 'air', siteId: 'plant-north', name: 'North air quality' },
  { id: 'th-south-1', classId: 'thermostat', siteId: 'plant-south', name: 'South office thermostat' },
];

for (const file of [HUB_MAIN, AGENT_MAIN, CONSOLE_INDEX]) {
  if (!existsSync(file)) {
    console.error(`demo: ${file} is missing; run \`npm run build\` first.`);
    process.exit(2);
  }
}

const children = [];
let stopping = false;

/** Starts a child whose output goes to `<name>.log` in the data dir's folder unless `inherit`. */
function start(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.stdout.resume();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`demo: ${name} exited (${signal ?? code})${stderr ? ':\n' + stderr : ''}`);
  });
  children.push({ name, child });
  return child;
}

function findOnPath(bin) {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/sbin']);
  return dirs.map((d) => join(d, bin)).find((p) => existsSync(p));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, host, () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });
}

async function waitReady(deadlineMs = 15_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the hub did not become ready on ${url}`);
}

async function api(token, path, body) {
  const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\ndemo: stopping…');
  // Agents and the bridge first, so the hub sees them leave; the hub last.
  const order = [...children].reverse();
  for (const { child } of order) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

let dataDir;
try {
  dataDir = await mkdtemp(join(tmpdir(), 'sitehub-demo-'));
  const adminToken = randomBytes(18).toString('base64url');
  start('hub', process.execPath, [HUB_MAIN, '--data-dir', join(dataDir, 'hub'), '--host', host, '--port', String(port), '--admin-token', adminToken, '--log-level', 'warn']);
  await waitReady();

  for (const siteId of new Set(DEVICES.map((d) => d.siteId))) await api(adminToken, '/api/sites', { id: siteId });
  for (const classId of new Set(DEVICES.map((d) => d.classId))) await api(adminToken, '/api/classes', { id: classId });
  for (const d of DEVICES) {
    const { token } = await api(adminToken, '/api/devices', d);
    const config = join(dataDir, `${d.id}.json`);
    await writeFile(
      config,
      JSON.stringify({ hub: { url, deviceId: d.id, token, class: d.classId }, simulate: { sensors: 3, intervalMs: 1000, total: 0 }, outbox: { path: `${d.id}-outbox.db` }, logLevel: 'warn' }, null, 2),
    );
    start(`agent ${d.id}`, process.execPath, [AGENT_MAIN, '--config', config, '--simulate']);
  }

  let mqtt = '';
  const mosquitto = findOnPath('mosquitto');
  if (mosquitto && existsSync(BRIDGE_MAIN)) {
    const mqttPort = await freePort();
    const conf = join(dataDir, 'mosquitto.conf');
    await writeFile(conf, `listener ${mqttPort} ${host}\nallow_anonymous true\npersistence false\n`);
    start('mosquitto', mosquitto, ['-c', conf]);
    const { token: bridgeToken } = await api(adminToken, '/api/bridge-tokens', { name: 'demo' });
    await new Promise((r) => setTimeout(r, 300));
    start('bridge', process.execPath, [BRIDGE_MAIN, '--hub-url', url, '--hub-token', bridgeToken, '--mqtt-url', `mqtt://${host}:${mqttPort}`, '--queue-file', join(dataDir, 'bridge-queue.db'), '--log-level', 'warn']);
    mqtt = `mqtt://${host}:${mqttPort}  (try: mosquitto_sub -p ${mqttPort} -t 'sitehub/#' -v)`;
  }

  console.log(`
sitehub demo is running
  console      ${url}/
  admin token  ${adminToken}
  devices      ${DEVICES.map((d) => `${d.id} (${d.siteId})`).join(', ')}
  MQTT         ${mqtt || 'off (no mosquitto binary or bridge build found)'}
  data         ${dataDir} (removed on exit)

Press Ctrl-C to stop.`);
} catch (err) {
  console.error(`demo: ${err.message}`);
  await stop(1);
}
