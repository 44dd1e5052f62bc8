// Benchmark: 1,000 socket.io-client connections to socket.io's Server and to
// sitehub's Server, same application, same client, same run. Phases: connect
// (RSS per connection), broadcast bursts (deliveries per server CPU-second,
// delivery latency), idle (server CPU while only heartbeats run).
import { io as connect } from 'socket.io-client';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerProcess } from './lib/child.mjs';
import { fmt, percentile, printTable } from './lib/stats.mjs';

const SERVER = new URL('./socketio-server.mjs', import.meta.url).pathname;

const config = {
  clients: Number(process.env.BENCH_CLIENTS ?? 1000),
  rounds: Number(process.env.BENCH_ROUNDS ?? 10),
  burst: Number(process.env.BENCH_BURST ?? 20),
  payloadBytes: Number(process.env.BENCH_PAYLOAD ?? 100),
  idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 10),
};

async function connectClients(port, n) {
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
  const close = () => sockets.forEach((s) => s.disconnect());
  return { state, waitFor, close };
}

async function measure(impl) {
  const server = startServerProcess(SERVER, [impl]);
  const port = await server.ready;
  try {
    const before = await server.request('stats');
    const clients = await connectClients(port, config.clients);
    await sleep(500);
    const connected = await server.request('stats');
    if (connected.clients !== config.clients) throw new Error(`${impl}: ${connected.clients} connections, expected ${config.clients}`);

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
    const burstCpu = afterBurst.cpu - connected.cpu;
    return {
      impl,
      deliveries,
      perSecond: deliveries / seconds,
      perCpuSecond: deliveries / burstCpu,
      rssPerConnection: (connected.rss - before.rss) / config.clients,
      p50: percentile(clients.state.latencies, 50),
      p99: percentile(clients.state.latencies, 99),
      idleCpu: afterIdle.cpu - afterBurst.cpu,
    };
  } finally {
    await server.stop();
  }
}

export async function run() {
  console.log(
    `\n## Socket.IO broadcast: ${config.clients} socket.io-client connections (WebSocket), ` +
      `${config.rounds} bursts of ${config.burst} io.emit() of ${config.payloadBytes} bytes, ${config.idleSeconds} s idle\n`,
  );
  const results = [];
  for (const impl of ['socket.io', 'sitehub']) results.push(await measure(impl));
  printTable(
    ['server', 'deliveries', 'deliveries/s', 'per server CPU s', 'RSS per connection', 'latency p50', 'latency p99', 'idle CPU s'],
    results.map((r) => [r.impl, r.deliveries, fmt(r.perSecond), fmt(r.perCpuSecond), `${fmt(r.rssPerConnection / 1024, 1)} KiB`, `${fmt(r.p50)} ms`, `${fmt(r.p99)} ms`, fmt(r.idleCpu, 3)]),
  );
  const [ref, ours] = results;
  console.log(
    `\nratio sitehub/socket.io: deliveries per CPU s ${fmt(ours.perCpuSecond / ref.perCpuSecond)}x (target >= 1.0), ` +
      `RSS per connection ${fmt(ours.rssPerConnection / ref.rssPerConnection)}x (target <= 0.6), ` +
      `p99 ${fmt(ours.p99 / ref.p99)}x (target < 1)`,
  );
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
