// Benchmark: socket.io-client connections to socket.io's Server and to
// sitehub's Server, same application, same client, same run. Memory runs
// (2,000 connections, young generation pinned): memory per connection.
// Throughput runs (1,000 connections, V8 defaults): broadcast bursts
// (deliveries per server CPU-second, delivery latency), idle (server CPU while
// only heartbeats run). Each kind of run alternates between the servers.
import { io as connect } from 'socket.io-client';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PINNED_YOUNG_GENERATION, startServerProcess } from './lib/child.mjs';
import { fmt, median, percentile, printTable } from './lib/stats.mjs';

const SERVER = new URL('./socketio-server.mjs', import.meta.url).pathname;

const config = {
  clients: Number(process.env.BENCH_CLIENTS ?? 1000),
  // Connected before the first memory reading, so that one-time costs (lazy
  // module state, compiled code, pools) do not count as per-connection cost.
  warmClients: Number(process.env.BENCH_WARM_CLIENTS ?? 100),
  repeats: Number(process.env.BENCH_REPEATS ?? 3),
  // Memory runs weigh more connections than the throughput runs: V8 grows the
  // old generation in steps and fills free space left by earlier garbage
  // first, which at 1,000 connections still moves the figure by ~1-2 KiB
  // per connection; at 2,000 the marginal cost is steadier.
  memoryClients: Number(process.env.BENCH_MEMORY_CLIENTS ?? 2000),
  memoryWarmClients: Number(process.env.BENCH_MEMORY_WARM_CLIENTS ?? 200),
  // Memory runs only connect, so they are cheap; RSS still moves with malloc's
  // fragmentation by a few KiB per connection between runs, so take more.
  memoryRepeats: Number(process.env.BENCH_MEMORY_REPEATS ?? 5),
  rounds: Number(process.env.BENCH_ROUNDS ?? 10),
  burst: Number(process.env.BENCH_BURST ?? 20),
  payloadBytes: Number(process.env.BENCH_PAYLOAD ?? 100),
  idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 10),
  settleMs: Number(process.env.BENCH_SETTLE_MS ?? 1000),
};

/** socket.io-client connections that count the `tick` events they receive; `add(n)` opens more. */
function clientPool(port) {
  const state = { received: 0, latencies: [], waiters: [] };
  const sockets = [];
  const add = async (n) => {
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
  };
  const waitFor = (target, timeoutMs) =>
    new Promise((resolve, reject) => {
      if (state.received >= target) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${state.received} of ${target} deliveries within ${timeoutMs} ms`)), timeoutMs);
      state.waiters.push({ target, resolve: () => (clearTimeout(timer), resolve()) });
    });
  const close = () => sockets.forEach((s) => s.disconnect());
  return { state, add, waitFor, close };
}

/**
 * Memory per connection of one implementation, in a fresh server process with
 * the young generation pinned (see PINNED_YOUNG_GENERATION): the marginal
 * cost, i.e. settled memory at `memoryClients` connections minus the one at
 * `memoryWarmClients`, divided by the difference, so one-time costs (lazy
 * module state, compiled code, pools) do not count.
 */
async function measureMemory(impl) {
  const server = startServerProcess(SERVER, [impl], { nodeFlags: PINNED_YOUNG_GENERATION });
  const port = await server.ready;
  const clients = clientPool(port);
  try {
    const { warm, full } = await connectAndWeigh(impl, server, clients, config.memoryClients, config.memoryWarmClients);
    const added = config.memoryClients - config.memoryWarmClients;
    return { rssPerConnection: (full.rss - warm.rss) / added, heapPerConnection: (full.heap - warm.heap) / added };
  } finally {
    clients.close();
    await server.stop();
  }
}

/** Connects the warm-up group, weighs, connects the rest, weighs again. */
async function connectAndWeigh(impl, server, clients, total, warmCount) {
  await clients.add(warmCount);
  await sleep(config.settleMs);
  const warm = await server.request('memory');
  await clients.add(total - warmCount);
  await sleep(config.settleMs);
  const full = await server.request('memory');
  if (full.clients !== total) throw new Error(`${impl}: ${full.clients} connections, expected ${total}`);
  return { warm, full };
}

/** Throughput, latency and idle CPU of one implementation with V8's default flags (memory noted as well). */
async function measureThroughput(impl) {
  const server = startServerProcess(SERVER, [impl]);
  const port = await server.ready;
  try {
    const clients = clientPool(port);
    const { warm, full } = await connectAndWeigh(impl, server, clients, config.clients, config.warmClients);
    const added = config.clients - config.warmClients;
    const connected = await server.request('stats');

    const payload = 'x'.repeat(config.payloadBytes);
    const perRound = config.clients * config.burst;
    const start = performance.now();
    for (let r = 1; r <= config.rounds; r++) {
      await server.request('burst', { count: config.burst, payload });
      await clients.waitFor(perRound * r, 120_000);
    }
    const seconds = (performance.now() - start) / 1000;
    const afterBurst = await server.request('stats');

    await sleep(config.idleSeconds * 1000);
    const afterIdle = await server.request('stats');
    clients.close();

    const deliveries = perRound * config.rounds;
    if (clients.state.received !== deliveries) throw new Error(`${impl}: ${clients.state.received} deliveries, expected ${deliveries}`);
    return {
      impl,
      deliveries,
      perSecond: deliveries / seconds,
      perCpuSecond: deliveries / (afterBurst.cpu - connected.cpu),
      defaultRssPerConnection: (full.rss - warm.rss) / added,
      p50: percentile(clients.state.latencies, 50),
      p99: percentile(clients.state.latencies, 99),
      idleCpu: afterIdle.cpu - afterBurst.cpu,
    };
  } finally {
    await server.stop();
  }
}

const MEMORY_METRICS = ['rssPerConnection', 'heapPerConnection'];
const THROUGHPUT_METRICS = ['perSecond', 'perCpuSecond', 'defaultRssPerConnection', 'p50', 'p99', 'idleCpu'];

export async function run() {
  console.log(
    `\n## Socket.IO broadcast: ${config.clients} socket.io-client connections (WebSocket), ` +
      `${config.rounds} bursts of ${config.burst} io.emit() of ${config.payloadBytes} bytes, ${config.idleSeconds} s idle; ` +
      `medians of ${config.memoryRepeats} memory runs and ${config.repeats} throughput runs per server, alternating.\n` +
      `Memory per connection = (settled memory at ${config.memoryClients} - at ${config.memoryWarmClients} connections) / ` +
      `${config.memoryClients - config.memoryWarmClients}, measured with the young generation pinned (${PINNED_YOUNG_GENERATION.join(' ')}); ` +
      `"RSS, default V8" is (at ${config.clients} - at ${config.warmClients}) / ${config.clients - config.warmClients} in the throughput run, ` +
      `with V8's defaults, where young-generation growth adds noise\n`,
  );
  const runs = { 'socket.io': [], sitehub: [] };
  // Alternate which server goes first, so that drift in the machine's load favours neither.
  const orderOf = (i) => (i % 2 === 0 ? ['socket.io', 'sitehub'] : ['sitehub', 'socket.io']);
  const memory = { 'socket.io': [], sitehub: [] };
  for (let i = 0; i < config.memoryRepeats; i++) {
    for (const impl of orderOf(i)) {
      const r = await measureMemory(impl);
      memory[impl].push(r);
      console.log(`memory run ${i + 1} ${impl}: RSS ${fmt(r.rssPerConnection / 1024, 1)} KiB, heap+external ${fmt(r.heapPerConnection / 1024, 1)} KiB per connection`);
    }
  }
  for (let i = 0; i < config.repeats; i++) {
    for (const impl of orderOf(i)) {
      const r = await measureThroughput(impl);
      runs[impl].push(r);
      console.log(
        `throughput run ${i + 1} ${impl}: RSS default V8 ${fmt(r.defaultRssPerConnection / 1024, 1)} KiB per connection, ` +
          `${fmt(r.perCpuSecond)} deliveries per CPU s, p99 ${fmt(r.p99)} ms`,
      );
    }
  }
  const results = Object.entries(runs).map(([impl, list]) => {
    const summary = { impl, deliveries: list[0].deliveries };
    for (const key of THROUGHPUT_METRICS) summary[key] = median(list.map((r) => r[key]));
    for (const key of MEMORY_METRICS) summary[key] = median(memory[impl].map((r) => r[key]));
    return summary;
  });
  console.log('');
  printTable(
    ['server', 'deliveries', 'deliveries/s', 'per server CPU s', 'RSS per connection', 'heap+external per connection', 'RSS, default V8', 'latency p50', 'latency p99', 'idle CPU s'],
    results.map((r) => [
      r.impl,
      r.deliveries,
      fmt(r.perSecond),
      fmt(r.perCpuSecond),
      `${fmt(r.rssPerConnection / 1024, 1)} KiB`,
      `${fmt(r.heapPerConnection / 1024, 1)} KiB`,
      `${fmt(r.defaultRssPerConnection / 1024, 1)} KiB`,
      `${fmt(r.p50)} ms`,
      `${fmt(r.p99)} ms`,
      fmt(r.idleCpu, 3),
    ]),
  );
  const [ref, ours] = results;
  console.log(
    `\nratio sitehub/socket.io (medians): deliveries per CPU s ${fmt(ours.perCpuSecond / ref.perCpuSecond)}x (target >= 1.0), ` +
      `RSS per connection ${fmt(ours.rssPerConnection / ref.rssPerConnection)}x (target <= 0.6), ` +
      `heap+external per connection ${fmt(ours.heapPerConnection / ref.heapPerConnection)}x, ` +
      `RSS per connection with default V8 flags ${fmt(ours.defaultRssPerConnection / ref.defaultRssPerConnection)}x, ` +
      `p99 ${fmt(ours.p99 / ref.p99)}x (target < 1)`,
  );
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
