// Benchmark: how many authenticated devices one hub process holds, and how
// they come back after the hub restarts. The server runs in a child process;
// the devices (socket.io-client over WebSocket to /devices/sensor, each with
// its own registry token, default reconnection) live in several fleet
// processes, spread over loopback source addresses 127.0.0.2, 127.0.0.3 ...
// (at most 60 devices per address, within the hub's default per-address
// handshake burst) so that no address runs out of ephemeral ports. Phases:
//   1. connect all devices; the server's memory after GC before and after
//      gives RSS and heap per device (kernel memory per socket from /proc);
//   2. idle with heartbeats (default pingInterval) over a fixed window: CPU;
//   3. a subset streams acked readings; the server is killed (SIGKILL) and a
//      new one started on the same port and database; time until every device
//      is back, reconnect_failed, event-loop stalls in the new server; the
//      stream runs on for a while, then every acked reading is looked up in
//      the store.
// The same run with socket.io 4.8.4 and an equivalent auth middleware
// (capacity-socketio.mjs) as the reference; ratios sitehub / socket.io, and
// a projection of the measured per-device costs to 100,000 devices.
// BENCH_DEVICES (default 18,000) for smaller runs.
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from './lib/child.mjs';
import { kernelMemory } from './lib/kernel-memory.mjs';
import { fmt, percentile, printTable } from './lib/stats.mjs';

const REFERENCE = new URL('./capacity-socketio.mjs', import.meta.url).pathname;
/** Server script and extra args per implementation; `sitehub-server` (not run by default) is the reference app on sitehub's Server. */
const SERVERS = {
  sitehub: { script: new URL('./capacity-hub.mjs', import.meta.url).pathname },
  'socket.io': { script: REFERENCE },
  'sitehub-server': { script: REFERENCE, args: { server: 'sitehub' } },
};
const FLEET = new URL('./capacity-devices.mjs', import.meta.url).pathname;

const devices = Math.min(18_000, Number(process.env.BENCH_DEVICES ?? 18_000));
const config = {
  devices,
  fleets: Number(process.env.BENCH_FLEETS ?? 4),
  /**
   * Niceness of the fleet processes. Real devices do not take the hub's CPU; here they share two cores
   * with it, and at equal priority the restarted server waited for a core most of the time (5-10 s to
   * listen for 0.8 s of CPU). A lower priority for the fleets gives the server the cores when both want
   * them; 0 runs them at the server's priority.
   */
  fleetNice: Number(process.env.BENCH_FLEET_NICE ?? 10),
  devicesPerAddress: 60,
  /** Handshakes in flight per fleet process while connecting. */
  concurrency: 100,
  idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 25),
  streamers: Math.min(devices, Number(process.env.BENCH_STREAMERS ?? 1000)),
  streamPeriodMs: 1000,
  ackTimeoutMs: 30_000,
  /** Stream before the kill and after every device is back. */
  streamMarginMs: 5000,
  connectTimeoutMs: 240_000,
  stormTimeoutMs: 120_000,
  impls: (process.env.BENCH_CAPACITY_IMPLS ?? 'sitehub,socket.io').split(',').filter(Boolean),
};

/** The k-th source address: 127.0.0.2 ... 127.0.0.251, then 127.0.1.2 ... */
const sourceAddress = (k) => `127.0.${Math.floor(k / 250)}.${2 + (k % 250)}`;

// Everything started here is stopped on the way out, also when the run fails or is interrupted.
const live = { children: new Set(), dirs: new Set() };
process.once('exit', () => {
  for (const child of live.children) child.kill('SIGKILL');
  for (const dir of live.dirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/** BENCH_PROFILE_DIR=<dir>: the servers write V8 CPU profiles there (for finding what a storm costs). */
const profileFlags = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];

function spawn(script, args, nodeFlags = []) {
  const proc = startServerProcess(script, args, { nodeFlags });
  live.children.add(proc.child);
  proc.child.once('exit', () => live.children.delete(proc.child));
  return proc;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const all = (fleets, type, payload, timeoutMs) => Promise.all(fleets.map((f, i) => f.request(type, typeof payload === 'function' ? payload(i) : payload, timeoutMs)));
const check = (reply) => {
  if (reply.error) throw new Error(reply.error);
  return reply;
};

async function measure(impl) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-bench-capacity-'));
  live.dirs.add(dataDir);
  let server = spawn(SERVERS[impl].script, [JSON.stringify({ dataDir, port: 0, ...SERVERS[impl].args })], profileFlags);
  const fleets = [];
  try {
    const port = await server.ready;
    const { tokens } = check(await server.request('setup', { devices: config.devices }, 300_000));
    const mem0 = check(await server.request('memory'));
    // The server's own idle cost without devices (timers, GC), taken out of the per-device idle figure.
    const empty0 = check(await server.request('stats'));
    await sleep(Math.min(5, config.idleSeconds) * 1000);
    const empty1 = check(await server.request('stats'));
    const kernel0 = kernelMemory();
    for (let i = 0; i < config.fleets; i++) {
      const fleet = spawn(FLEET, [], profileFlags);
      if (config.fleetNice) os.setPriority(fleet.child.pid, Math.min(19, os.getPriority(process.pid) + config.fleetNice));
      fleets.push(fleet);
    }
    await Promise.all(fleets.map((f) => f.ready));

    // 1. Connect. Device i goes to fleet i % fleets, from address floor(i / devicesPerAddress)... interleaved so that
    // consecutive handshakes of one fleet come from different addresses.
    const addresses = Math.ceil(config.devices / config.devicesPerAddress);
    const shares = fleets.map(() => []);
    tokens.forEach((t, i) => shares[i % config.fleets].push({ ...t, address: sourceAddress(i % addresses) }));
    const url = `http://127.0.0.1:${port}/devices/sensor`;
    const cpuBefore = check(await server.request('stats')).cpu;
    const connectStart = Date.now();
    const connected = (await all(fleets, 'connect', (i) => ({ url, devices: shares[i], concurrency: config.concurrency, timeoutMs: config.connectTimeoutMs }), config.connectTimeoutMs + 30_000)).map(check);
    const connectSeconds = (Date.now() - connectStart) / 1000;
    const up = connected.reduce((n, c) => n + c.connected, 0);
    const afterConnect = check(await server.request('stats'));
    if (up < config.devices) console.log(`  ${impl}: only ${up} of ${config.devices} devices connected within ${config.connectTimeoutMs / 1000} s`);
    const mem1 = check(await server.request('memory'));
    const kernel1 = kernelMemory();

    // 2. Idle with heartbeats.
    await sleep(2000);
    const idle0 = check(await server.request('stats'));
    await sleep(config.idleSeconds * 1000);
    const idle1 = check(await server.request('stats'));

    // 3. Reconnect storm with a stream of acked readings.
    const every = Math.max(1, Math.round(config.devices / config.streamers));
    // The readings cost CPU too, and a longer storm handles more of them: their cost per reading, measured
    // while every device is connected, is taken out of the storm's CPU per reconnect.
    const stream0 = check(await server.request('stats'));
    await all(fleets, 'startStream', { every, periodMs: config.streamPeriodMs, ackTimeoutMs: config.ackTimeoutMs });
    await sleep(config.streamMarginMs);
    const stream1 = check(await server.request('stats'));
    const idleShare = (idle1.cpu - idle0.cpu) / (idle1.uptime - idle0.uptime);
    const streamedRows = stream1.telemetryRows - stream0.telemetryRows;
    const cpuPerReading = (stream1.cpu - stream0.cpu - idleShare * (stream1.uptime - stream0.uptime)) / Math.max(1, streamedRows);
    const killedAt = Date.now();
    await all(fleets, 'markStorm', { t0: killedAt });
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGKILL');
    await exited;
    server = spawn(SERVERS[impl].script, [JSON.stringify({ dataDir, port, ...SERVERS[impl].args })], profileFlags);
    await server.ready;
    const readyAfter = (Date.now() - killedAt) / 1000;
    const backs = (await all(fleets, 'waitBack', { timeoutMs: config.stormTimeoutMs }, config.stormTimeoutMs + 30_000)).map(check);
    const afterStorm = check(await server.request('stats'));
    const stormWall = (Date.now() - killedAt) / 1000;
    await sleep(config.streamMarginMs);
    const streams = (await all(fleets, 'stopStream', {}, config.ackTimeoutMs + 30_000)).map(check);
    const statuses = (await all(fleets, 'status', {})).map(check);
    const acked = streams.flatMap((s) => s.acked);
    const verified = check(await server.request('verify', { acked }, 120_000));

    const times = backs.flatMap((b) => b.times);
    const back = times.length;
    const sum = (key) => statuses.reduce((n, s) => n + s[key], 0);
    const errorCodes = {};
    for (const s of statuses) for (const [k, v] of Object.entries(s.errorCodes)) errorCodes[k] = (errorCodes[k] ?? 0) + v;
    return {
      impl,
      devices: config.devices,
      up,
      connectSeconds,
      connectCpu: afterConnect.cpu - cpuBefore,
      baseRss: mem0.rss,
      rss: mem1.rss,
      rssPerDevice: (mem1.rss - mem0.rss) / up,
      heapPerDevice: (mem1.heap - mem0.heap) / up,
      kernelSlabPerConnection: kernel0.slabBytes !== undefined ? (kernel1.slabBytes - kernel0.slabBytes) / up : NaN,
      kernelTcpBuffersPerConnection: kernel0.tcpBufferBytes !== undefined ? (kernel1.tcpBufferBytes - kernel0.tcpBufferBytes) / up : NaN,
      idleCpuShare: idleShare,
      emptyCpuShare: (empty1.cpu - empty0.cpu) / (empty1.uptime - empty0.uptime),
      back,
      allBackSeconds: back === up ? Math.max(...times) / 1000 : Infinity,
      backP50: percentile(times, 50) / 1000,
      backP90: percentile(times, 90) / 1000,
      readyAfter,
      neverDown: backs.reduce((n, b) => n + b.neverDown, 0),
      reconnectFailed: sum('reconnectFailed'),
      reconnectAttempts: sum('reconnectAttempts'),
      connectErrors: sum('connectErrors'),
      refusedByNamespace: sum('refusedByNamespace'),
      serverKicks: sum('serverKicks'),
      errorCodes,
      stormCpu: afterStorm.cpu,
      cpuPerReading,
      readingsInStorm: afterStorm.telemetryRows - afterStorm.telemetryRowsAtListen,
      startCpu: afterStorm.cpuAtListen,
      hubLoop: afterStorm.loop,
      stormCommits: afterStorm.commits,
      restartedPid: server.child.pid,
      hubLoopBeforeListen: afterStorm.loopBeforeListen,
      fleetLoopWorstMs: Math.max(...backs.map((b) => b.loop.worstLateMs)),
      fleetCpu: backs.reduce((n, b) => n + b.cpu, 0),
      stormWall,
      refused: afterStorm.refused,
      sent: streams.reduce((n, s) => n + s.sent, 0),
      acked: acked.length,
      failed: streams.reduce((n, s) => n + s.failed, 0),
      timedOut: streams.reduce((n, s) => n + s.timedOut, 0),
      streamers: Math.ceil(config.devices / every),
      verified,
    };
  } finally {
    await Promise.all(fleets.map((f) => f.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    live.dirs.delete(dataDir);
  }
}

const KB = 1024;
const MB = 2 ** 20;

/** Server CPU per reconnect once listening, without what the readings stored meanwhile cost. */
const netReconnectCpu = (r) => (r.stormCpu - r.startCpu - r.readingsInStorm * r.cpuPerReading) / Math.max(1, r.back);

function report(results) {
  // Ratios are always to socket.io, whichever ran first.
  const b = results.find((r) => r.impl === 'socket.io');
  const others = b ? results.filter((r) => r !== b) : [];
  const rows = [
    ['devices connected', (r) => `${r.up}/${r.devices}`],
    ['connect: seconds (devices/s)', (r) => `${fmt(r.connectSeconds, 1)} (${fmt(r.up / r.connectSeconds, 0)})`, (r) => r.connectSeconds],
    ['connect: server CPU ms per device', (r) => fmt((r.connectCpu * 1000) / r.up, 3), (r) => r.connectCpu / r.up],
    ['server RSS before / with all devices, MiB', (r) => `${fmt(r.baseRss / MB, 0)} / ${fmt(r.rss / MB, 0)}`, (r) => r.rss],
    ['RSS per device, KiB', (r) => fmt(r.rssPerDevice / KB, 1), (r) => r.rssPerDevice],
    ['heap per device, KiB', (r) => fmt(r.heapPerDevice / KB, 1), (r) => r.heapPerDevice],
    ['kernel slab per connection (both ends), KiB', (r) => fmt(r.kernelSlabPerConnection / KB, 1)],
    [`idle CPU, % of a core (${config.idleSeconds} s, pings every 25 s)`, (r) => fmt(100 * r.idleCpuShare, 2), (r) => r.idleCpuShare],
    ['idle CPU without devices, % of a core', (r) => fmt(100 * r.emptyCpuShare, 2)],
    ['idle CPU per 1,000 devices, % of a core', (r) => fmt((100_000 * (r.idleCpuShare - r.emptyCpuShare)) / r.up, 3), (r) => r.idleCpuShare - r.emptyCpuShare],
    ['storm: new server listening after kill, s', (r) => fmt(r.readyAfter, 2)],
    ['storm: all back after kill, s (target <= 30)', (r) => fmt(r.allBackSeconds, 1), (r) => r.allBackSeconds],
    ['storm: back p50 / p90, s', (r) => `${fmt(r.backP50, 1)} / ${fmt(r.backP90, 1)}`],
    ['storm: reconnect_failed (target 0)', (r) => r.reconnectFailed],
    ['storm: reconnect attempts / connect_errors', (r) => `${r.reconnectAttempts} / ${r.connectErrors}`],
    ['storm: refused by namespace / kicked', (r) => `${r.refusedByNamespace} / ${r.serverKicks}`],
    ['storm: server CPU s, start to listening / to all back', (r) => `${fmt(r.startCpu, 2)} / ${fmt(r.stormCpu, 2)}`, (r) => r.stormCpu],
    ['storm: server CPU ms per reconnect (after listening)', (r) => fmt(((r.stormCpu - r.startCpu) * 1000) / Math.max(1, r.back), 3), (r) => (r.stormCpu - r.startCpu) / r.back],
    ['readings: server CPU ms per reading (all connected)', (r) => fmt(r.cpuPerReading * 1000, 3), (r) => r.cpuPerReading],
    ['storm: readings stored meanwhile', (r) => r.readingsInStorm],
    ['storm: server CPU ms per reconnect, less those readings', (r) => fmt(netReconnectCpu(r) * 1000, 3), (r) => netReconnectCpu(r)],
    ['storm: group commits / jobs / ms inside them (restarted server)', (r) => `${r.stormCommits.commits} / ${r.stormCommits.jobs} / ${fmt(r.stormCommits.commitMsSum, 0)}`],
    ['storm: server event-loop max delay while starting, ms', (r) => fmt(r.hubLoopBeforeListen.maxDelayMs, 0)],
    ['storm: server event-loop max delay once listening, ms (target < 1,000)', (r) => fmt(r.hubLoop.maxDelayMs, 0), (r) => r.hubLoop.maxDelayMs],
    ['storm: server stalls over 1 s once listening', (r) => r.hubLoop.stallsOverLimit],
    ['storm: server CPU during its worst lap, ms', (r) => fmt(r.hubLoop.worstLapCpuMs, 0)],
    ['storm: fleet event-loop worst lateness, ms', (r) => fmt(r.fleetLoopWorstMs, 0)],
    ['storm: CPU s of server + fleets in the storm (2 cores: 2 s per s of wall)', (r) => `${fmt(r.stormCpu, 1)} + ${fmt(r.fleetCpu, 1)} in ${fmt(r.stormWall, 1)} s`],
    ['readings: streamers, sent / acked', (r) => `${r.streamers}, ${r.sent} / ${r.acked}`],
    ['readings: acked but not in the store (target 0)', (r) => `${r.verified.missing} of ${r.verified.checked}`],
  ];
  const headers = ['measure', ...results.map((r) => r.impl), ...others.map((a) => `${a.impl} / ${b.impl}`)];
  printTable(
    headers,
    rows.map(([name, show, value]) => [name, ...results.map(show), ...others.map((a) => (value ? `${fmt(value(a) / value(b))}x` : ''))]),
  );
  for (const r of results) {
    const codes = Object.entries(r.errorCodes).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
    const refused = Object.entries(r.refused).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
    console.log(`\n${r.impl}: connect_error causes: ${codes}; refusals counted by the server: ${refused}; devices that never dropped: ${r.neverDown}; readings failed ${r.failed}, timed out ${r.timedOut}; telemetry rows stored ${r.verified.storedTotal}`);
    // With BENCH_PROFILE_DIR: which profile is the restarted server's, and when its worst lap was (profile clock, µs).
    if (profileFlags.length) console.log(`${r.impl}: restarted server pid ${r.restartedPid}, worst lap once listening ${r.hubLoop.worstLapUs.join(' .. ')} µs`);
  }

  // The projection: measured per-device costs times 100,000, plus the fixed base.
  const N = 100_000;
  console.log(`\n### Projection to ${N.toLocaleString('en-US')} devices per node (from the measured per-device costs)\n`);
  printTable(
    ['resource', ...results.map((r) => r.impl)],
    [
      ['server RSS, GiB', ...results.map((r) => fmt((r.baseRss + r.rssPerDevice * N) / 2 ** 30, 2))],
      ['server heap, GiB (V8 old space must be allowed this: --max-old-space-size)', ...results.map((r) => fmt((r.heapPerDevice * N) / 2 ** 30, 2))],
      ['idle CPU with heartbeats, % of a core', ...results.map((r) => fmt(100 * (r.emptyCpuShare + ((r.idleCpuShare - r.emptyCpuShare) * N) / r.up), 1))],
      ['reconnect storm, server CPU s (one core: the least time for all to come back)', ...results.map((r) => fmt(r.startCpu + netReconnectCpu(r) * N, 1))],
      ['file descriptors (one per device)', ...results.map(() => `> ${N.toLocaleString('en-US')}: needs RLIMIT_NOFILE > 100k (here 20k)`)],
      ['kernel slab, GiB (about half of the both-ends figure)', ...results.map((r) => fmt((r.kernelSlabPerConnection / 2) * N / 2 ** 30, 2))],
    ],
  );
}

export async function run() {
  console.log(
    `\n## Capacity: ${config.devices.toLocaleString('en-US')} authenticated devices (socket.io-client, WebSocket, /devices/sensor, per-device tokens), ` +
      `${config.fleets} fleet processes (nice +${config.fleetNice}) over ${Math.ceil(config.devices / config.devicesPerAddress)} loopback source addresses; idle ${config.idleSeconds} s; ` +
      `then the server is killed and restarted on the same port and database while ${config.streamers} devices stream acked readings\n`,
  );
  const results = [];
  for (const impl of config.impls) {
    if (!SERVERS[impl]) throw new Error(`unknown implementation ${impl}; known: ${Object.keys(SERVERS).join(', ')}`);
    results.push(await measure(impl));
  }
  report(results);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
