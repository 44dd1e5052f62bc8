// Benchmark `socketio`: socket.io-client connections to socket.io 4.8.4's
// Server, to sitehub's Server, and to a floor (floor-server.mjs: the least a
// server written directly on `ws` must do, encoding each broadcast once),
// same clients, same run, alternating. Measured per server, each in a fresh
// child process:
// - memory runs (2,000 connections, young generation pinned): RSS and heap
//   per connection, marginal;
// - WebSocket runs (500 connections, V8 defaults): server CPU per 1,000
//   handshakes (Engine.IO open + Socket.IO CONNECT), broadcast deliveries,
//   unicast deliveries and inbound acked events per server CPU-second,
//   broadcast latency;
// - polling runs (sitehub and socket.io; the floor has no polling): acked
//   events per server CPU-second over long polling.
import { Agent } from 'node:http';
import { io as connect } from 'socket.io-client';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PINNED_YOUNG_GENERATION, startServerProcess } from './lib/child.mjs';
import { fmt, median, percentile, printTable } from './lib/stats.mjs';

const SERVERS = {
  'socket.io': { script: new URL('./socketio-server.mjs', import.meta.url).pathname, args: ['socket.io'] },
  sitehub: { script: new URL('./socketio-server.mjs', import.meta.url).pathname, args: ['sitehub'] },
  floor: { script: new URL('./floor-server.mjs', import.meta.url).pathname, args: [] },
};
const ALL = Object.keys(SERVERS);

const num = (name, fallback) => Number(process.env[name] ?? fallback);
const config = {
  clients: num('BENCH_CLIENTS', 500),
  // Connected before the first reading, so that one-time costs (lazy module
  // state, compiled code, pools) count neither as memory nor as handshake cost.
  warmClients: num('BENCH_WARM_CLIENTS', 100),
  repeats: num('BENCH_REPEATS', 3),
  // Memory runs weigh more connections than the throughput runs: V8 grows the
  // old generation in steps and fills free space left by earlier garbage
  // first, which at 1,000 connections still moves the figure by ~1-2 KiB
  // per connection; at 2,000 the marginal cost is steadier.
  memoryClients: num('BENCH_MEMORY_CLIENTS', 2000),
  memoryWarmClients: num('BENCH_MEMORY_WARM_CLIENTS', 200),
  memoryRepeats: num('BENCH_MEMORY_REPEATS', 3),
  rounds: num('BENCH_ROUNDS', 10),
  // Broadcast one message at a time: each io.emit() waits for the previous one's deliveries.
  singleRounds: num('BENCH_SINGLE_ROUNDS', 50),
  burst: num('BENCH_BURST', 20),
  // Unicast: each round sends `unicastBurst` messages to every socket, one emit per socket.
  unicastBurst: num('BENCH_UNICAST_BURST', 10),
  // Inbound: each round, every client emits `inboundBurst` events with an ack and waits for the acks.
  inboundBurst: num('BENCH_INBOUND_BURST', 10),
  pollingClients: num('BENCH_POLLING_CLIENTS', 100),
  pollingRounds: num('BENCH_POLLING_ROUNDS', 20),
  pollingBurst: num('BENCH_POLLING_BURST', 5),
  payloadBytes: num('BENCH_PAYLOAD', 100),
  settleMs: num('BENCH_SETTLE_MS', 1000),
  // Which kinds of run to make (all by default).
  phases: (process.env.BENCH_PHASES ?? 'memory,websocket,polling').split(','),
  servers: (process.env.BENCH_SERVERS ?? ALL.join(',')).split(',').filter((s) => SERVERS[s]),
};

/** socket.io-client connections that count the `tick` events they receive; `add(n)` opens more. */
function clientPool(port, transport = 'websocket') {
  const state = { received: 0, latencies: [], waiters: [], acked: 0, ackWaiters: [] };
  const sockets = [];
  // Polling requests reuse their TCP connections, as browsers do (without an
  // agent socket.io-client opens a connection per request in Node, and the
  // TCP setup then outweighs everything the servers do).
  const agent = transport === 'polling' ? new Agent({ keepAlive: true }) : undefined;
  const settle = (count, waiters) => {
    while (waiters.length && count >= waiters[0].target) waiters.shift().resolve();
  };
  const add = async (n) => {
    for (let i = 0; i < n; i += 50) {
      const group = [];
      for (let j = i; j < Math.min(n, i + 50); j++) {
        const socket = connect(`http://127.0.0.1:${port}`, { transports: [transport], forceNew: true, reconnection: false, agent });
        socket.on('tick', (msg) => {
          state.latencies.push(performance.timeOrigin + performance.now() - msg.t);
          state.received++;
          settle(state.received, state.waiters);
        });
        sockets.push(socket);
        group.push(new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject))));
      }
      await Promise.all(group);
    }
  };
  const waitOn = (waiters, current, what) => (target, timeoutMs) =>
    new Promise((resolve, reject) => {
      if (current() >= target) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${current()} of ${target} ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({ target, resolve: () => (clearTimeout(timer), resolve()) });
      waiters.sort((a, b) => a.target - b.target);
    });
  const waitFor = waitOn(state.waiters, () => state.received, 'deliveries');
  const waitForAcks = waitOn(state.ackWaiters, () => state.acked, 'acks');
  /** Every client emits `count` acked events; resolves when all acks are in. */
  const emitAcked = (count, payload) => {
    const target = state.acked + sockets.length * count;
    let seq = 0;
    for (const socket of sockets) {
      for (let i = 0; i < count; i++) {
        socket.emit('event', { seq: seq++, payload }, () => {
          state.acked++;
          settle(state.acked, state.ackWaiters);
        });
      }
    }
    return waitForAcks(target, 120_000);
  };
  const close = () => {
    sockets.forEach((s) => s.disconnect());
    agent?.destroy();
  };
  return { state, add, waitFor, emitAcked, close, size: () => sockets.length };
}

/** Connects the warm-up group, weighs, connects the rest, weighs again; the CPU of the second group's handshakes. */
async function connectAndWeigh(impl, server, clients, total, warmCount) {
  await clients.add(warmCount);
  await sleep(config.settleMs);
  const warm = await server.request('memory');
  const before = await server.request('stats');
  await clients.add(total - warmCount);
  const after = await server.request('stats');
  await sleep(config.settleMs);
  const full = await server.request('memory');
  if (full.clients !== total) throw new Error(`${impl}: ${full.clients} connections, expected ${total}`);
  return { warm, full, handshakeCpu: after.cpu - before.cpu };
}

/**
 * Memory per connection in a fresh server process with the young generation
 * pinned (see PINNED_YOUNG_GENERATION): settled memory at `memoryClients`
 * connections minus the one at `memoryWarmClients`, divided by the difference.
 */
async function measureMemory(impl) {
  const { script, args } = SERVERS[impl];
  const server = startServerProcess(script, args, { nodeFlags: PINNED_YOUNG_GENERATION });
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

/** Server CPU seconds spent while `work` runs. */
async function cpuOf(server, work) {
  const before = await server.request('stats');
  await work();
  const after = await server.request('stats');
  return after.cpu - before.cpu;
}

/** Handshakes, broadcast, unicast and inbound acked events over WebSocket, V8 defaults. */
async function measureWebSocket(impl) {
  const { script, args } = SERVERS[impl];
  const server = startServerProcess(script, args);
  const port = await server.ready;
  const clients = clientPool(port);
  try {
    const n = config.clients;
    const { warm, full, handshakeCpu } = await connectAndWeigh(impl, server, clients, n, config.warmClients);
    const payload = 'x'.repeat(config.payloadBytes);

    // Broadcast: io.emit() bursts; each round waits for every delivery.
    const perRound = n * config.burst;
    let base = clients.state.received;
    const start = performance.now();
    const broadcastCpu = await cpuOf(server, async () => {
      for (let r = 1; r <= config.rounds; r++) {
        await server.request('burst', { count: config.burst, payload });
        await clients.waitFor(base + perRound * r, 120_000);
      }
    });
    const broadcastSeconds = (performance.now() - start) / 1000;
    const latencies = clients.state.latencies.splice(0);

    // Broadcast, one message at a time: nothing to batch per recipient.
    base = clients.state.received;
    const singleCpu = await cpuOf(server, async () => {
      for (let r = 1; r <= config.singleRounds; r++) {
        await server.request('burst', { count: 1, payload });
        await clients.waitFor(base + n * r, 120_000);
      }
    });
    clients.state.latencies.length = 0;

    // Unicast: socket.emit() to each socket in turn.
    const perUnicastRound = n * config.unicastBurst;
    base = clients.state.received;
    const unicastCpu = await cpuOf(server, async () => {
      for (let r = 1; r <= config.rounds; r++) {
        await server.request('unicast', { count: config.unicastBurst, payload });
        await clients.waitFor(base + perUnicastRound * r, 120_000);
      }
    });

    // Inbound: every client emits acked events; each round waits for all acks.
    const inboundCpu = await cpuOf(server, async () => {
      for (let r = 1; r <= config.rounds; r++) await clients.emitAcked(config.inboundBurst, payload);
    });
    const stats = await server.request('stats');
    const inbound = n * config.inboundBurst * config.rounds;
    if (stats.events !== inbound) throw new Error(`${impl}: ${stats.events} events seen by the server, expected ${inbound}`);

    return {
      handshakeCpuPer1000: (handshakeCpu / (n - config.warmClients)) * 1000,
      broadcastPerCpu: (perRound * config.rounds) / broadcastCpu,
      broadcastPerSecond: (perRound * config.rounds) / broadcastSeconds,
      singleBroadcastPerCpu: (n * config.singleRounds) / singleCpu,
      unicastPerCpu: (perUnicastRound * config.rounds) / unicastCpu,
      inboundPerCpu: inbound / inboundCpu,
      defaultRssPerConnection: (full.rss - warm.rss) / (n - config.warmClients),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    };
  } finally {
    clients.close();
    await server.stop();
  }
}

/** Acked events over long polling (no WebSocket at all). */
async function measurePolling(impl) {
  const { script, args } = SERVERS[impl];
  const server = startServerProcess(script, [...args, 'polling']);
  const port = await server.ready;
  const clients = clientPool(port, 'polling');
  try {
    await clients.add(config.pollingClients);
    await sleep(config.settleMs);
    const payload = 'x'.repeat(config.payloadBytes);
    await clients.emitAcked(1, payload); // warm-up, not counted
    const before = await server.request('stats');
    for (let r = 1; r <= config.pollingRounds; r++) await clients.emitAcked(config.pollingBurst, payload);
    const after = await server.request('stats');
    const events = config.pollingClients * config.pollingBurst * config.pollingRounds;
    return { pollingPerCpu: events / (after.cpu - before.cpu), requestsPerEvent: (after.requests - before.requests) / events };
  } finally {
    clients.close();
    await server.stop();
  }
}

// Which way a ratio is better, and each row's target (against socket.io, or against the floor).
const ROWS = [
  { key: 'rssPerConnection', label: 'idle RSS per connection (young gen pinned)', unit: 'KiB', scale: 1 / 1024, target: { ref: 'socket.io', max: 0.5 } },
  { key: 'defaultRssPerConnection', label: 'idle RSS per connection (V8 defaults)', unit: 'KiB', scale: 1 / 1024, target: { ref: 'socket.io', max: 0.5 } },
  { key: 'heapPerConnection', label: 'heap+external per connection', unit: 'KiB', scale: 1 / 1024, target: { ref: 'socket.io', max: 0.35 } },
  { key: 'handshakeCpuPer1000', label: 'server CPU s per 1,000 handshakes', unit: 's', scale: 1, digits: 3, target: { ref: 'socket.io', max: 0.7 } },
  { key: 'broadcastPerCpu', label: 'broadcast deliveries per server CPU s', target: { ref: 'floor', min: 0.95 } },
  { key: 'singleBroadcastPerCpu', label: 'broadcast one at a time: deliveries per server CPU s', target: { ref: 'floor', min: 0.95 } },
  { key: 'inboundPerCpu', label: 'inbound acked events per server CPU s', target: { ref: 'floor', min: 0.95 } },
  { key: 'unicastPerCpu', label: 'unicast deliveries per server CPU s', target: { ref: 'socket.io', min: 1.5 } },
  { key: 'pollingPerCpu', label: 'polling: acked events per server CPU s', target: { ref: 'socket.io', min: 1.5 } },
  { key: 'requestsPerEvent', label: 'polling: HTTP requests per acked event', digits: 2 },
  { key: 'p50', label: 'broadcast latency p50', unit: 'ms' },
  { key: 'p99', label: 'broadcast latency p99', unit: 'ms' },
];

export async function run() {
  const servers = config.servers;
  console.log(
    `\n## Socket.IO: ${servers.join(', ')}; socket.io-client 4.8.4 connections, medians of alternating runs.\n` +
      `Memory: ${config.memoryRepeats} runs per server, (settled memory at ${config.memoryClients} - at ${config.memoryWarmClients} connections) / ` +
      `${config.memoryClients - config.memoryWarmClients}, young generation pinned (${PINNED_YOUNG_GENERATION.join(' ')}).\n` +
      `WebSocket: ${config.repeats} runs per server, ${config.clients} connections (handshake CPU over the last ${config.clients - config.warmClients}); ` +
      `${config.rounds} rounds each of ${config.burst} io.emit() (and ${config.singleRounds} of one), of ${config.unicastBurst} socket.emit() per socket, ` +
      `of ${config.inboundBurst} acked client emits per client; ${config.payloadBytes}-byte payloads.\n` +
      `Polling: ${config.repeats} runs per server, ${config.pollingClients} clients, ${config.pollingRounds} rounds of ${config.pollingBurst} acked emits per client.\n`,
  );
  const results = Object.fromEntries(servers.map((s) => [s, { memory: [], ws: [], polling: [] }]));
  // Rotate which server goes first, so that drift in the machine's load favours none.
  const orderOf = (i, list) => list.map((_, k) => list[(i + k) % list.length]);
  const started = performance.now();
  for (let i = 0; config.phases.includes('memory') && i < config.memoryRepeats; i++) {
    for (const impl of orderOf(i, servers)) {
      const r = await measureMemory(impl);
      results[impl].memory.push(r);
      console.log(`memory run ${i + 1} ${impl}: RSS ${fmt(r.rssPerConnection / 1024, 1)} KiB, heap+external ${fmt(r.heapPerConnection / 1024, 1)} KiB per connection`);
    }
  }
  for (let i = 0; i < config.repeats; i++) {
    for (const impl of config.phases.includes('websocket') ? orderOf(i, servers) : []) {
      const r = await measureWebSocket(impl);
      results[impl].ws.push(r);
      console.log(
        `websocket run ${i + 1} ${impl}: handshakes ${fmt(r.handshakeCpuPer1000, 3)} CPU s/1000, broadcast ${fmt(r.broadcastPerCpu)}/CPU s (one at a time ${fmt(r.singleBroadcastPerCpu)}), ` +
          `unicast ${fmt(r.unicastPerCpu)}/CPU s, inbound ${fmt(r.inboundPerCpu)}/CPU s, RSS default V8 ${fmt(r.defaultRssPerConnection / 1024, 1)} KiB, p99 ${fmt(r.p99)} ms`,
      );
    }
    for (const impl of config.phases.includes('polling') ? orderOf(i, servers.filter((s) => s !== 'floor')) : []) {
      const r = await measurePolling(impl);
      results[impl].polling.push(r);
      console.log(`polling run ${i + 1} ${impl}: ${fmt(r.pollingPerCpu)} acked events/CPU s, ${fmt(r.requestsPerEvent)} HTTP requests per event`);
    }
  }
  const summary = {};
  for (const impl of servers) {
    summary[impl] = {};
    for (const list of Object.values(results[impl])) {
      if (list.length === 0) continue;
      for (const key of Object.keys(list[0])) summary[impl][key] = median(list.map((r) => r[key]));
    }
  }
  console.log(`\n(${fmt((performance.now() - started) / 1000, 0)} s)\n`);
  const ratio = (row, impl, ref) => {
    const a = summary[impl]?.[row.key];
    const b = summary[ref]?.[row.key];
    return a === undefined || b === undefined ? '—' : `${fmt(a / b)}x`;
  };
  const value = (row, impl) => {
    const v = summary[impl]?.[row.key];
    return v === undefined ? '—' : `${fmt(v * (row.scale ?? 1), row.digits ?? (row.unit ? 1 : 0))}${row.unit ? ' ' + row.unit : ''}`;
  };
  const verdict = (row) => {
    if (!row.target || summary.sitehub?.[row.key] === undefined || summary[row.target.ref]?.[row.key] === undefined) return '';
    const r = summary.sitehub[row.key] / summary[row.target.ref][row.key];
    const ok = row.target.max !== undefined ? r <= row.target.max : r >= row.target.min;
    return `${row.target.max !== undefined ? '<=' : '>='} ${row.target.max ?? row.target.min}x ${row.target.ref}: ${ok ? 'met' : 'not met'}`;
  };
  printTable(
    ['measure', ...servers, 'sitehub / socket.io', 'sitehub / floor', 'target'],
    ROWS.map((row) => [row.label, ...servers.map((s) => value(row, s)), ratio(row, 'sitehub', 'socket.io'), ratio(row, 'sitehub', 'floor'), verdict(row)]),
  );
  return summary;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
