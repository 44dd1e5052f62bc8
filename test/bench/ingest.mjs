// Benchmark: telemetry ingest. Many simulated devices (socket.io-client over
// WebSocket) send batched readings and wait for each durable ack; the hub runs
// in a child process. Beside it, in the same run, the limit: a raw
// better-sqlite3 batched insert of the same rows into the same schema.
import { io } from 'socket.io-client';
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
async function stream(socket, latencies) {
  const t0 = Date.now() - 3_600_000;
  let next = 0;
  let acked = 0;
  const lane = async () => {
    while (next < config.batchesPerDevice) {
      const b = next++;
      const readings = [];
      for (let i = 0; i < config.batch; i++) {
        const seq = b * config.batch + i + 1;
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

export async function run() {
  const total = config.devices * config.batch * config.batchesPerDevice;
  console.log(
    `\n## Telemetry ingest: ${config.devices} devices x ${config.batchesPerDevice} batches of ${config.batch} readings ` +
      `(${total.toLocaleString('en-US')} readings), ${config.inFlight} batch(es) in flight per device, acks after commit\n`,
  );
  const server = startServerProcess(SERVER);
  const port = await server.ready;
  let sockets = [];
  try {
    const { tokens } = await server.request('setup', { devices: config.devices });
    sockets = await connectDevices(port, tokens);
    const before = await server.request('stats');
    const latencies = [];
    const start = process.hrtime.bigint();
    const counts = await Promise.all(sockets.map((s) => stream(s, latencies)));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = await server.request('stats');
    const acked = counts.reduce((a, b) => a + b, 0);
    if (after.stored !== total || acked !== total) throw new Error(`stored ${after.stored}, acked ${acked}, expected ${total}`);
    for (const s of sockets) s.close();
    sockets = [];

    const raw = await server.request('raw', { devices: config.devices, batch: config.batch, batchesPerDevice: config.batchesPerDevice, txRows: RAW_TX_ROWS });
    const hubRate = acked / seconds;
    const rawRate = raw.rows / raw.seconds;
    const commits = after.store.commits - before.store.commits;
    printTable(
      ['path', 'readings', 'seconds', 'readings/s', 'ack p50 ms', 'ack p99 ms', 'server CPU s', 'commits'],
      [
        ['sitehub (socket.io-client -> hub -> SQLite, acked)', acked, fmt(seconds), fmt(hubRate), fmt(percentile(latencies, 50)), fmt(percentile(latencies, 99)), fmt(after.cpu - before.cpu), commits],
        [`raw better-sqlite3 insert (same rows, same schema, ${RAW_TX_ROWS} per tx)`, raw.rows, fmt(raw.seconds), fmt(rawRate), '-', '-', '-', Math.ceil(raw.rows / RAW_TX_ROWS)],
      ],
    );
    console.log(`\nratio sitehub/raw insert: ${fmt(hubRate / rawRate)}x (target >= 0.50); readings per commit: ${fmt(acked / Math.max(1, commits), 1)}`);
    return { hubRate, rawRate, ratio: hubRate / rawRate, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    for (const s of sockets) s.close();
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
