// Benchmark: telemetry ingest. Many simulated devices (socket.io-client over
// WebSocket) send batched readings and wait for each durable ack; the hub runs
// in a child process, once on SQLite and once on PostgreSQL (a throwaway
// cluster). Beside each, in the same run, the limit on that database: the
// same rows inserted into the same schema by the bare driver (better-sqlite3;
// pg with multi-row statements).
import { io } from 'socket.io-client';
import { startPostgres } from '../helpers/postgres-cluster.mjs';
import { startServerProcess } from './lib/child.mjs';
import { fmt, percentile, printTable } from './lib/stats.mjs';

const SERVER = new URL('./ingest-server.mjs', import.meta.url).pathname;
/** Rows per transaction of the raw insert: larger than any group commit the hub makes here, so it is the best case. */
const RAW_TX_ROWS = 10_000;

const config = {
  devices: Number(process.env.BENCH_DEVICES ?? 200),
  batch: Number(process.env.BENCH_BATCH ?? 50),
  batchesPerDevice: Number(process.env.BENCH_BATCHES ?? 40),
  inFlight: Number(process.env.BENCH_IN_FLIGHT ?? 1),
  /** Alarm rules active in the second round (issue 20: the cost of rules judged at ingest); 0 skips the round. */
  rules: Number(process.env.BENCH_RULES ?? 100),
  /** Which databases: `sqlite,postgres` by default. */
  databases: (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').filter(Boolean),
};

async function connectDevices(port, tokens) {
  const sockets = [];
  for (let i = 0; i < tokens.length; i += 50) {
    const group = tokens.slice(i, i + 50).map(({ deviceId, token }) => {
      const socket = io(`http://127.0.0.1:${port}/devices/sensor`, { auth: { deviceId, token }, transports: ['websocket'], forceNew: true, reconnection: false });
      sockets.push(socket);
      return new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    });
    await Promise.all(group);
  }
  return sockets;
}

/** One device's stream: `batchesPerDevice` batches, `inFlight` at a time, each waiting for its ack. */
async function stream(socket, latencies, round = 0) {
  const t0 = Date.now() - 3_600_000;
  const first = round * config.batchesPerDevice * config.batch;
  let next = 0;
  let acked = 0;
  const lane = async () => {
    while (next < config.batchesPerDevice) {
      const b = next++;
      const readings = [];
      for (let i = 0; i < config.batch; i++) {
        const seq = first + b * config.batch + i + 1;
        readings.push({ seq, ts: t0 + seq, values: { temp: 20 + (seq % 7) / 10, rh: 40, ok: true } });
      }
      const sent = performance.now();
      const answer = await socket.timeout(60_000).emitWithAck('telemetry', readings);
      latencies.push(performance.now() - sent);
      if (!answer.ok) throw new Error(`telemetry refused: ${answer.error}`);
      acked += answer.stored;
    }
  };
  await Promise.all(Array.from({ length: config.inFlight }, lane));
  return acked;
}

/** The hub on one database, then the raw inserts on the same engine; returns table rows and figures. */
async function measure(name, databaseArg) {
  const total = config.devices * config.batch * config.batchesPerDevice;
  const server = startServerProcess(SERVER, [databaseArg]);
  const port = await server.ready;
  let sockets = [];
  try {
    const setup = await server.request('setup', { devices: config.devices });
    if (setup.error) throw new Error(setup.error);
    sockets = await connectDevices(port, setup.tokens);
    const before = await server.request('stats');
    const latencies = [];
    const start = process.hrtime.bigint();
    const counts = await Promise.all(sockets.map((s) => stream(s, latencies)));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = await server.request('stats');
    const acked = counts.reduce((a, b) => a + b, 0);
    if (after.stored !== total || acked !== total) throw new Error(`${name}: stored ${after.stored}, acked ${acked}, expected ${total}`);

    // The same load again, new seqs, with the alarm rules active: the rules' share of the ingest path.
    let ruled;
    if (config.rules > 0) {
      const made = await server.request('rules', { count: config.rules });
      if (made.rules !== config.rules) throw new Error(`${name}: ${made.rules} rules made, ${config.rules} wanted`);
      const ruledLatencies = [];
      const cpuBefore = (await server.request('stats')).cpu;
      const start2 = process.hrtime.bigint();
      const counts2 = await Promise.all(sockets.map((s) => stream(s, ruledLatencies, 1)));
      const seconds2 = Number(process.hrtime.bigint() - start2) / 1e9;
      const after2 = await server.request('stats');
      const acked2 = counts2.reduce((a, b) => a + b, 0);
      if (after2.stored !== 2 * total || acked2 !== total) throw new Error(`${name} with rules: stored ${after2.stored}, acked ${acked2}, expected ${2 * total}`);
      ruled = { rate: acked2 / seconds2, row: [`sitehub on ${name} with ${config.rules} active alarm rules`, acked2, fmt(seconds2), fmt(acked2 / seconds2), fmt(percentile(ruledLatencies, 50)), fmt(percentile(ruledLatencies, 99)), fmt(after2.cpu - cpuBefore), after2.store.commits - after.store.commits] };
    }
    for (const s of sockets) s.close();
    sockets = [];

    const raw = await server.request('raw', { devices: config.devices, batch: config.batch, batchesPerDevice: config.batchesPerDevice, txRows: RAW_TX_ROWS }, 600_000);
    if (raw.error) throw new Error(raw.error);
    const hubRate = acked / seconds;
    const best = raw.results.reduce((a, b) => (b.rows / b.seconds > a.rows / a.seconds ? b : a));
    const rawRate = best.rows / best.seconds;
    const commits = after.store.commits - before.store.commits;
    const rows = [
      [`sitehub on ${name} (socket.io-client -> hub -> ${name}, acked)`, acked, fmt(seconds), fmt(hubRate), fmt(percentile(latencies, 50)), fmt(percentile(latencies, 99)), fmt(after.cpu - before.cpu), commits],
      ...(ruled ? [ruled.row] : []),
      ...raw.results.map((r) => [`raw ${name}: ${r.method}`, r.rows, fmt(r.seconds), fmt(r.rows / r.seconds), '-', '-', '-', Math.ceil(r.rows / RAW_TX_ROWS)]),
    ];
    return { name, rows, hubRate, rawRate, ratio: hubRate / rawRate, perCommit: acked / Math.max(1, commits), p50: percentile(latencies, 50), p99: percentile(latencies, 99), ruledRate: ruled?.rate };
  } finally {
    for (const s of sockets) s.close();
    await server.stop();
  }
}

export async function run() {
  const total = config.devices * config.batch * config.batchesPerDevice;
  console.log(
    `\n## Telemetry ingest: ${config.devices} devices x ${config.batchesPerDevice} batches of ${config.batch} readings ` +
      `(${total.toLocaleString('en-US')} readings), ${config.inFlight} batch(es) in flight per device, acks after commit\n`,
  );
  const results = [];
  for (const name of config.databases) {
    if (name === 'sqlite') results.push(await measure('SQLite', 'sqlite'));
    else if (name === 'postgres') {
      const cluster = await startPostgres();
      try {
        results.push(await measure('PostgreSQL', cluster.url()));
      } finally {
        await cluster.stop();
      }
    } else throw new Error(`unknown database "${name}" in BENCH_DATABASES (sqlite, postgres)`);
  }
  printTable(
    ['path', 'readings', 'seconds', 'readings/s', 'ack p50 ms', 'ack p99 ms', 'server CPU s', 'commits'],
    results.flatMap((r) => r.rows),
  );
  console.log('');
  for (const r of results) {
    console.log(`ratio sitehub/raw insert on ${r.name}: ${fmt(r.ratio)}x (target >= 0.50, against the faster raw method); readings per commit: ${fmt(r.perCommit, 1)}`);
    if (r.ruledRate !== undefined) console.log(`with ${config.rules} active alarm rules on ${r.name}: ${fmt(r.ruledRate / r.hubRate)}x the rate without rules`);
  }
  return Object.fromEntries(results.map((r) => [r.name, { hubRate: r.hubRate, rawRate: r.rawRate, ratio: r.ratio, p50: r.p50, p99: r.p99, ruledRate: r.ruledRate }]));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
