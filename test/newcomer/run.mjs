#!/usr/bin/env node
// The first hour of a newcomer, scripted (run by .ci/run, or by hand:
// `node test/newcomer/run.mjs`): a `git clone` of this repository's committed
// state into a temp dir, then, as README.md says:
//   1. `npm start` (installs, builds, starts the hub; port changed with `-- --port`),
//      with no npm warning on the way;
//   2. `npm test`, narrowed to one file (the whole suite runs in CI anyway);
//   3. "A device in ten lines": the README's curl block and its JS device,
//      until the device prints its first ack;
//   4. `npx sitehub --help`, `npx sitehub-agent --help`, `npx sitehub-bridge --help`;
//   5. the agent alone, as docs/raspberry-pi.md installs it: the packed tarball
//      into an empty prefix with `npm install -g`, then `sitehub-agent --simulate`
//      until the hub has stored its readings;
//   6. SIGINT to npm's process stops the hub.
// Every step is bounded in time; the temp dir is removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'sitehub-newcomer-'));
const clone = join(work, 'sitehub');
const started = Date.now();
const children = new Set();

const step = (what) => console.log(`[newcomer ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${what}`);
function fail(message) {
  console.error(`[newcomer] FAILED: ${message}`);
  cleanup();
  process.exit(1);
}
function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid, 'SIGKILL');
  if (!process.env.SITEHUB_NEWCOMER_KEEP) rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => fail('interrupted'));

// Children print without colours: CI=true makes vitest and npm colour their
// output, and the checks below read it as text (an escape code between
// "Tests" and "20 passed" failed a run that had passed).
const { FORCE_COLOR: _forceColor, ...inherited } = process.env;
const childEnv = (env) => ({ ...inherited, NO_COLOR: '1', ...env });
const plain = (chunk) => String(chunk).replace(/\x1b\[[0-9;]*m/g, '');

/** Runs a command to completion; returns stdout+stderr; fails the run on a non-zero exit or past `timeoutMs`. */
function run(cmd, args, { cwd = clone, env = {}, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: childEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => (out += plain(d)));
    child.stderr.on('data', (d) => (out += plain(d)));
    const timer = setTimeout(() => fail(`${cmd} ${args.join(' ')} still running after ${timeoutMs / 1000} s:\n${out}`), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      if (code !== 0) fail(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`);
      resolve(out);
    });
  });
}

/** Starts a long-running command; resolves with it once its output matches `ready`. */
function startUntil(cmd, args, ready, { cwd = clone, env = {}, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: childEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const state = { child, out: '' };
    const timer = setTimeout(() => fail(`${cmd} ${args.join(' ')}: no ${ready} after ${timeoutMs / 1000} s:\n${state.out}`), timeoutMs);
    const onData = (d) => {
      state.out += plain(d);
      if (ready.test(state.out)) {
        clearTimeout(timer);
        resolve(state);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      if (!ready.test(state.out)) fail(`${cmd} ${args.join(' ')} exited (${code}) before ${ready}:\n${state.out}`);
    });
  });
}

/** Stops a child started with startUntil by `signal` to its own process; fails if it outlives 20 s. */
function stop(state, signal) {
  return new Promise((resolve) => {
    if (state.child.exitCode !== null) return resolve(state.child.exitCode);
    const timer = setTimeout(() => fail(`still running 20 s after ${signal}:\n${state.out.slice(-2000)}`), 20_000);
    state.child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(state.child);
      resolve(code);
    });
    state.child.kill(signal);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** The README block marked `run=<id>`. */
function readmeBlock(id) {
  const readme = readFileSync(join(clone, 'README.md'), 'utf8');
  const match = new RegExp('^```\\w*\\s+run=' + id + '\\s*\\n([\\s\\S]*?)^```\\s*$', 'm').exec(readme);
  if (!match) fail(`README.md has no block run=${id}`);
  return match[1];
}

function replaceOnce(code, from, to, where) {
  if (!code.includes(from)) fail(`${where} no longer contains ${JSON.stringify(from)}`);
  return code.split(from).join(to);
}

const noNpmWarnings = (output, what) => {
  const warnings = output.split('\n').filter((l) => /^npm warn/i.test(l));
  if (warnings.length) fail(`${what} printed npm warnings:\n${warnings.join('\n')}`);
};

step(`git clone of ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim()} into ${clone}`);
await run('git', ['clone', '-q', repo, clone], { cwd: work });

// 1. npm start: installs, builds, starts. Loopback and a free port, so the run disturbs nothing.
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
step('npm start (npm ci, build, hub)');
const hub = await startUntil('npm', ['start', '--', '--host', '127.0.0.1', '--port', String(port)], /listening/, { timeoutMs: 900_000 });
noNpmWarnings(hub.out, 'npm start');
if (!/admin token/.test(hub.out) || !existsSync(join(clone, 'data', 'admin-token'))) fail(`npm start printed no admin token:\n${hub.out}`);
const admin = readFileSync(join(clone, 'data', 'admin-token'), 'utf8').trim();
const api = async (path, body) => {
  const res = await fetch(url + path, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body && JSON.stringify(body) });
  if (!res.ok) fail(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

// 5 (started early: installing the agent builds its native modules, which takes a while).
step('npm run pack:device-client; npm install -g of the tarball into an empty prefix (in the background)');
const packed = (await run('npm', ['run', '--silent', 'pack:device-client', '--', join(work, 'packs')])).trim().split('\n').pop();
const prefix = join(work, 'prefix');
const agentInstall = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--allow-scripts=better-sqlite3,@serialport/bindings-cpp', packed], { cwd: work, timeoutMs: 900_000 });

// 2. npm test, one file.
step('npm test -- test/protocol/engine-codec.test.ts');
const tested = await run('npm', ['test', '--', 'test/protocol/engine-codec.test.ts'], { timeoutMs: 300_000 });
if (!/Tests\s+\d+ passed/.test(tested)) fail(`npm test:\n${tested}`);

// 3. A device in ten lines.
step('README: register a device with curl');
const curl = replaceOnce(readmeBlock('readme-register'), 'localhost:3000', `127.0.0.1:${port}`, 'the README curl block');
const answers = await run('bash', ['-euo', 'pipefail', '-c', curl]);
const token = [...answers.matchAll(/"token":"([^"]+)"/g)].pop()?.[1];
if (!token) fail(`no device token in:\n${answers}`);
step('README: the device in ten lines (node device.mjs at the clone root)');
let device = replaceOnce(readmeBlock('readme-device'), 'http://localhost:3000', url, 'the README device block');
device = replaceOnce(device, '<token>', token, 'the README device block');
writeFileSync(join(clone, 'device.mjs'), device);
const deviceRun = await startUntil(process.execPath, ['device.mjs'], /ok: true, stored: 1, duplicates: 0/, { timeoutMs: 30_000 });
await stop(deviceRun, 'SIGTERM');

// 4. The three commands.
for (const cmd of ['sitehub', 'sitehub-agent', 'sitehub-bridge']) {
  step(`npx ${cmd} --help`);
  const help = await run('npx', ['--no-install', cmd, '--help'], { timeoutMs: 60_000 });
  if (!/usage/i.test(help)) fail(`npx ${cmd} --help:\n${help}`);
}

// 5. The agent alone.
step('waiting for the agent install');
noNpmWarnings(await agentInstall, 'npm install -g of the packed agent');
const agentBin = join(prefix, 'bin', 'sitehub-agent');
await run(agentBin, ['--help'], { cwd: work, timeoutMs: 60_000 });
const { token: piToken } = await api('/api/devices', { id: 'pi-1', classId: 'thermostat', siteId: 'plant-1' });
writeFileSync(join(work, 'agent.json'), JSON.stringify({ hub: { url, deviceId: 'pi-1', token: piToken, class: 'thermostat' }, outbox: { path: join(work, 'outbox.db') }, simulate: { sensors: 2, intervalMs: 200 } }));
step('sitehub-agent --config agent.json --simulate, from the prefix');
const agent = await startUntil(agentBin, ['--config', join(work, 'agent.json'), '--simulate'], /connected to hub/, { cwd: work, timeoutMs: 60_000 });
for (let i = 0; ; i++) {
  const { items } = await api('/api/devices/pi-1/telemetry?limit=10');
  if (items.length >= 3) break;
  if (i > 150) fail(`the agent's readings did not reach the hub:\n${agent.out.slice(-2000)}`);
  await new Promise((r) => setTimeout(r, 200));
}
await stop(agent, 'SIGTERM');

// 6. SIGINT to npm's process stops the hub.
step('SIGINT to npm start');
const code = await stop(hub, 'SIGINT');
if (code !== 0) fail(`npm start exited with ${code} after SIGINT`);
const refused = await fetch(`${url}/healthz`).then(() => false, () => true);
if (!refused) fail('the hub still answers after SIGINT to npm');

step('all steps passed');
cleanup();
