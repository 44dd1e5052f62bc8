// Benchmark: what a bridge costs on a cluster. Three hub nodes (Redis,
// PostgreSQL, the nodes in processes of their own); devices on node-1 and
// node-2 send paced batches; a /bridge subscriber (socket.io-client, acking
// its pages) on node-3 takes everything. Measured: the time from a batch's
// send to its arrival at the bridge, and the CPU of the hub nodes and of
// PostgreSQL per record. Runs: no bridge (the baseline CPU), a bridge on
// this build (its session follows the store: stream-follower.ts), and, when
// BENCH_REFERENCE_HUB names another build's hub/dist/main.js (e.g. the
// commit before, where bridges took the live broadcasts), a bridge on that.
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { api, connect } from './lib/cluster-client.mjs';
import { cpuDiff, cpuOf } from './lib/proc-cpu.mjs';
import { fmt, percentile, printTable } from './lib/stats.mjs';

const config = {
  devices: Number(process.env.BENCH_DEVICES ?? 20),
  batch: Number(process.env.BENCH_BATCH ?? 10),
  batches: Number(process.env.BENCH_BATCHES ?? 60),
  intervalMs: Number(process.env.BENCH_INTERVAL_MS ?? 50),
  reference: process.env.BENCH_REFERENCE_HUB,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(label, { bridge, hubMain }) {
  const cluster = await startHubCluster({
    nodes: 3,
    hubMain,
    nodeArgs: ['--handshake-rate-per-address', '0', '--max-sessions-per-address', '0', '--max-connections-per-address', '0', '--log-level', 'error'],
  });
  const sockets = [];
  try {
    await api(cluster, 'POST', '/api/sites', { id: 'bench' });
    await api(cluster, 'POST', '/api/classes', { id: 'sensor' });
    for (let d = 0; d < config.devices; d++) {
      const { token } = await api(cluster, 'POST', '/api/devices', { id: `dev-${d}`, classId: 'sensor', siteId: 'bench' });
      sockets.push(await connect(cluster.nodes[d % 2].url, '/devices/sensor', { deviceId: `dev-${d}`, token }));
    }
    const arrived = new Map();
    let outOfOrder = 0;
    let last = 0;
    const take = (event, p) => {
      if (p.pos <= last) outOfOrder++;
      last = Math.max(last, p.pos);
      if (event === 'telemetry') arrived.set(`${p.deviceId}:${p.readings[0].seq}`, performance.now());
    };
    if (bridge) {
      const { token } = await api(cluster, 'POST', '/api/bridge-tokens', { name: 'bench' });
      const b = await connect(cluster.nodes[2].url, '/bridge', { token });
      b.on('telemetry', (p) => take('telemetry', p));
      b.on('replay', (page, ack) => {
        for (const [event, p] of page.records) take(event, p);
        ack({ ok: true });
      });
      const answer = await b.emitWithAck('subscribe', {});
      if (!answer.ok) throw new Error(`bridge subscribe: ${answer.error}`);
      sockets.push(b);
    }
    // Every node has heard of the bridge.
    await sleep(1500);
    const sent = new Map();
    const records = config.devices * config.batches;
    const before = cpuOf(cluster);
    const t0 = Date.now() - 600_000;
    await Promise.all(
      sockets.slice(0, config.devices).map(async (socket, d) => {
        await sleep((config.intervalMs * d) / config.devices);
        for (let b = 0; b < config.batches; b++) {
          const next = sleep(config.intervalMs);
          const readings = [];
          for (let i = 1; i <= config.batch; i++) {
            const seq = b * config.batch + i;
            readings.push({ seq, ts: t0 + seq, values: { temp: 20 + (seq % 7) / 10, rh: 40 } });
          }
          sent.set(`dev-${d}:${readings[0].seq}`, performance.now());
          const ack = await socket.timeout(60_000).emitWithAck('telemetry', readings);
          if (!ack.ok) throw new Error(`refused: ${ack.error}`);
          await next;
        }
      }),
    );
    const deadline = Date.now() + 30_000;
    while (bridge && arrived.size < records && Date.now() < deadline) await sleep(20);
    const cpu = cpuDiff(before, cpuOf(cluster));
    if (bridge && arrived.size !== records) throw new Error(`${label}: the bridge got ${arrived.size} of ${records} records`);
    const latencies = [...arrived].map(([key, at]) => at - sent.get(key));
    // Pages the bridge's node sent after the resume (this build only): records per store read.
    const metrics = await (await fetch(`${cluster.nodes[2].url}/metrics`)).text();
    const pages = Number(/sitehub_events_out_total\{namespace="bridge",event="live"\} (\d+)/.exec(metrics)?.[1] ?? NaN);
    return { label, records, cpu, latencies, outOfOrder, pages };
  } finally {
    for (const s of sockets) s.close();
    await cluster.stop();
  }
}

export async function run() {
  console.log(
    `\n## A bridge on a cluster: 3 hub nodes, ${config.devices} devices on node-1 and node-2, a batch of ${config.batch} readings every ${config.intervalMs} ms each ` +
      `(${config.batches} batches), a /bridge subscriber on node-3\n`,
  );
  const runs = [await measure('no bridge', { bridge: false }), await measure('bridge (this build: follows the store)', { bridge: true })];
  if (config.reference) runs.push(await measure(`bridge (reference build: live broadcasts)`, { bridge: true, hubMain: config.reference }));
  printTable(
    ['run', 'records', 'send -> bridge p50 ms', 'p99 ms', 'hub CPU ms / 1k records (3 nodes)', 'PG CPU ms / 1k records', 'Redis CPU ms / 1k', 'arrived after a higher position', 'pages (records / page)'],
    runs.map((r) => [
      r.label,
      r.records,
      r.latencies.length ? fmt(percentile(r.latencies, 50)) : '-',
      r.latencies.length ? fmt(percentile(r.latencies, 99)) : '-',
      fmt((r.cpu.nodes * 1e6) / r.records),
      fmt((r.cpu.pg * 1e6) / r.records),
      fmt((r.cpu.redis * 1e6) / r.records),
      r.latencies.length ? r.outOfOrder : '-',
      Number.isNaN(r.pages) ? '-' : `${r.pages} (${fmt(r.records / r.pages)})`,
    ]),
  );
  return runs.map((r) => ({ label: r.label, p50: r.latencies.length ? percentile(r.latencies, 50) : null, cpu: r.cpu }));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
