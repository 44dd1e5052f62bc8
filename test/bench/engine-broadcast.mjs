// Benchmark: N WebSocket sessions receiving broadcasts, through sitehub's
// EngineServer and through the engine.io package, same client, same run.
// Each implementation runs in a child process of its own; this process is the
// load: N raw WebSocket clients speaking Engine.IO v4 (open, pong, messages).
import WebSocket from 'ws';
import { startServerProcess } from './lib/child.mjs';
import { fmt, printTable } from './lib/stats.mjs';

const SERVER = new URL('./engine-broadcast-server.mjs', import.meta.url).pathname;

const config = {
  clients: Number(process.env.BENCH_CLIENTS ?? 500),
  rounds: Number(process.env.BENCH_ROUNDS ?? 20),
  burst: Number(process.env.BENCH_BURST ?? 20),
  payloadBytes: Number(process.env.BENCH_PAYLOAD ?? 100),
};

/** Opens N Engine.IO WebSocket sessions and counts the messages they receive. */
async function connectClients(port, n) {
  const state = { received: 0, waiters: [] };
  const sockets = [];
  const opened = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/engine.io/?EIO=4&transport=websocket`);
    sockets.push(ws);
    opened.push(
      new Promise((resolve, reject) => {
        ws.once('error', reject);
        ws.on('message', (data, isBinary) => {
          const text = isBinary ? '' : data.toString();
          const type = text.charCodeAt(0);
          if (type === 0x34 /* 4 message */) {
            state.received++;
            if (state.waiters.length && state.received >= state.waiters[0].target) state.waiters.shift().resolve();
          } else if (type === 0x32 /* 2 ping */) ws.send('3');
          else if (type === 0x30 /* 0 open */) resolve();
        });
      }),
    );
    // Connect in small groups so the accept queue is never the bottleneck.
    if (i % 50 === 49) await Promise.all(opened.slice(i - 49, i + 1));
  }
  await Promise.all(opened);
  const waitFor = (target, timeoutMs) =>
    new Promise((resolve, reject) => {
      if (state.received >= target) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${state.received} of ${target} messages within ${timeoutMs} ms`)), timeoutMs);
      state.waiters.push({ target, resolve: () => (clearTimeout(timer), resolve()) });
    });
  const close = () => Promise.all(sockets.map((ws) => new Promise((r) => (ws.once('close', r), ws.close()))));
  return { state, waitFor, close };
}

async function measure(impl, mode) {
  const server = startServerProcess(SERVER, [impl]);
  const port = await server.ready;
  try {
    const before = await server.request('stats');
    const clients = await connectClients(port, config.clients);
    const connected = await server.request('stats');
    if (connected.clients !== config.clients) throw new Error(`${impl}: ${connected.clients} sessions, expected ${config.clients}`);
    const payload = 'x'.repeat(config.payloadBytes);
    const perRound = config.clients * config.burst;
    const start = process.hrtime.bigint();
    for (let r = 1; r <= config.rounds; r++) {
      await server.request('broadcast', { count: config.burst, payload, mode });
      await clients.waitFor(perRound * r, 60_000);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = await server.request('stats');
    await clients.close();
    const deliveries = perRound * config.rounds;
    return {
      impl,
      mode,
      deliveries,
      perSecond: deliveries / seconds,
      cpu: after.cpu - connected.cpu,
      perCpuSecond: deliveries / (after.cpu - connected.cpu),
      rssPerSession: (connected.rss - before.rss) / config.clients,
    };
  } finally {
    await server.stop();
  }
}

export async function run() {
  console.log(`\n## Engine.IO broadcast: ${config.clients} WebSocket sessions, ${config.rounds} rounds of ${config.burst} messages of ${config.payloadBytes} bytes\n`);
  const results = [];
  for (const [impl, mode] of [
    ['engine.io', 'send'],
    ['sitehub', 'send'],
    ['engine.io', 'prepared'],
    ['sitehub', 'prepared'],
  ]) {
    results.push(await measure(impl, mode));
  }
  printTable(
    ['server', 'send path', 'deliveries', 'msgs/s', 'server CPU s', 'msgs per CPU s', 'RSS per session'],
    results.map((r) => [r.impl, r.mode, r.deliveries, fmt(r.perSecond), fmt(r.cpu), fmt(r.perCpuSecond), `${fmt(r.rssPerSession / 1024, 1)} KiB`]),
  );
  console.log('');
  for (const mode of ['send', 'prepared']) {
    const ours = results.find((r) => r.impl === 'sitehub' && r.mode === mode);
    const ref = results.find((r) => r.impl === 'engine.io' && r.mode === mode);
    console.log(
      `ratio sitehub/engine.io (${mode}): msgs/s ${fmt(ours.perSecond / ref.perSecond)}x, ` +
        `msgs per CPU s ${fmt(ours.perCpuSecond / ref.perCpuSecond)}x, RSS per session ${fmt(ours.rssPerSession / ref.rssPerSession)}x`,
    );
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
