// Benchmark `cluster`: cross-node broadcast through Redis. Two server
// processes share one redis-server (Debian's, started here on a free
// loopback port with its own folder): node A emits, node B holds every
// client, so each delivery crosses Redis. sitehub (createRedisAdapter) and
// socket.io 4.8.4 (@socket.io/redis-adapter) run the same application with
// the same node-redis clients and the same socket.io-client load, in turns.
// Measured: deliveries per server CPU-second (A + B; Redis excluded, it does
// the same work for both) and delivery latency, emit to client receipt.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { io as connect } from 'socket.io-client';
import { startServerProcess } from './lib/child.mjs';
import { fmt, median, percentile, printTable } from './lib/stats.mjs';

const SERVER = new URL('./cluster-server.mjs', import.meta.url).pathname;

const config = {
  clients: Number(process.env.BENCH_CLUSTER_CLIENTS ?? 500),
  repeats: Number(process.env.BENCH_REPEATS ?? 3),
  rounds: Number(process.env.BENCH_ROUNDS ?? 10),
  burst: Number(process.env.BENCH_BURST ?? 20),
  payloadBytes: Number(process.env.BENCH_PAYLOAD ?? 100),
};

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const accepts = (port) =>
  new Promise((resolve) => {
    const sock = tcpConnect({ port, host: '127.0.0.1' });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });

/** redis-server on a free loopback port, its own folder, no persistence; stop() kills it by PID. */
async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-bench-redis-'));
  const port = await freePort();
  const child = spawn(process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** socket.io-client connections to `port` counting `tick` events and their latency. */
async function clientPool(port, n) {
  const state = { received: 0, latencies: [], waiters: [] };
  const sockets = [];
  for (let i = 0; i < n; i += 50) {
    const group = [];
    for (let j = i; j < Math.min(n, i + 50); j++) {
      const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
      socket.on('tick', (msg) => {
        state.latencies.push(performance.timeOrigin + performance.now() - msg.t);
        state.received++;
        if (state.waiters.length && state.received >= state.waiters[0].target) state.waiters.shift().resolve();
      });
      sockets.push(socket);
      group.push(new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject))));
    }
    await Promise.all(group);
  }
  const waitFor = (target, timeoutMs) =>
    new Promise((resolve, reject) => {
      if (state.received >= target) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${state.received} of ${target} deliveries within ${timeoutMs} ms`)), timeoutMs);
      state.waiters.push({ target, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { state, waitFor, close: () => sockets.forEach((s) => s.disconnect()) };
}

async function measure(impl, redisUrl) {
  // The server processes inherit this process's environment.
  process.env.REDIS_URL = redisUrl;
  const nodes = [startServerProcess(SERVER, [impl]), startServerProcess(SERVER, [impl])];
  try {
    const [, portB] = await Promise.all(nodes.map((n) => n.ready));
    const deadline = Date.now() + 10_000;
    while ((await nodes[0].request('serverCount')).count !== 2) {
      if (Date.now() > deadline) throw new Error(`${impl}: the two nodes do not see each other`);
      await sleep(50);
    }
    const clients = await clientPool(portB, config.clients);
    await sleep(500);
    // One warm-up round, not counted: JIT and connection pools.
    const payload = 'x'.repeat(config.payloadBytes);
    await nodes[0].request('burst', { count: config.burst, payload });
    await clients.waitFor(config.clients * config.burst, 60_000);
    clients.state.latencies.length = 0;
    const base = clients.state.received;

    const cpuBefore = await Promise.all(nodes.map((n) => n.request('stats')));
    const perRound = config.clients * config.burst;
    const start = performance.now();
    for (let r = 1; r <= config.rounds; r++) {
      await nodes[0].request('burst', { count: config.burst, payload });
      await clients.waitFor(base + perRound * r, 120_000);
    }
    const seconds = (performance.now() - start) / 1000;
    const cpuAfter = await Promise.all(nodes.map((n) => n.request('stats')));
    clients.close();
    const deliveries = perRound * config.rounds;
    await sleep(200);
    if (clients.state.received !== base + deliveries) throw new Error(`${impl}: ${clients.state.received - base} deliveries, expected ${deliveries}`);
    const cpuA = cpuAfter[0].cpu - cpuBefore[0].cpu;
    const cpuB = cpuAfter[1].cpu - cpuBefore[1].cpu;
    return {
      impl,
      deliveries,
      perSecond: deliveries / seconds,
      cpuA,
      cpuB,
      perCpuSecond: deliveries / (cpuA + cpuB),
      p50: percentile(clients.state.latencies, 50),
      p99: percentile(clients.state.latencies, 99),
    };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

const METRICS = ['perSecond', 'cpuA', 'cpuB', 'perCpuSecond', 'p50', 'p99'];

export async function run() {
  console.log(
    `\n## Cluster broadcast through Redis: 2 nodes on one redis-server, node A emits, node B holds ${config.clients} socket.io-client connections (WebSocket); ` +
      `${config.rounds} bursts of ${config.burst} io.emit() of ${config.payloadBytes} bytes after one warm-up burst; medians of ${config.repeats} runs per server, alternating.\n`,
  );
  const redis = await startRedis();
  const runs = { 'socket.io': [], sitehub: [] };
  try {
    for (let i = 0; i < config.repeats; i++) {
      for (const impl of i % 2 === 0 ? ['socket.io', 'sitehub'] : ['sitehub', 'socket.io']) {
        const r = await measure(impl, redis.url);
        runs[impl].push(r);
        console.log(`run ${i + 1} ${impl}: ${fmt(r.perCpuSecond)} deliveries per server CPU s (A ${fmt(r.cpuA)} s, B ${fmt(r.cpuB)} s), p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms`);
      }
    }
  } finally {
    await redis.stop();
  }
  const results = Object.entries(runs).map(([impl, list]) => {
    const summary = { impl, deliveries: list[0].deliveries };
    for (const key of METRICS) summary[key] = median(list.map((r) => r[key]));
    return summary;
  });
  console.log('');
  printTable(
    ['server', 'deliveries', 'deliveries/s', 'CPU s node A', 'CPU s node B', 'per server CPU s', 'latency p50', 'latency p99'],
    results.map((r) => [r.impl, r.deliveries, fmt(r.perSecond), fmt(r.cpuA), fmt(r.cpuB), fmt(r.perCpuSecond), `${fmt(r.p50)} ms`, `${fmt(r.p99)} ms`]),
  );
  const [ref, ours] = results;
  console.log(
    `\nratio sitehub/socket.io (medians): deliveries per server CPU s ${fmt(ours.perCpuSecond / ref.perCpuSecond)}x (target >= 1.2), ` +
      `p50 ${fmt(ours.p50 / ref.p50)}x, p99 ${fmt(ours.p99 / ref.p99)}x (target < 1)`,
  );
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
