// Benchmark: the IoT hub as one node and as three, on this machine. Each
// configuration is a whole cluster (test/helpers/hub-cluster.mjs): Redis,
// PostgreSQL and the hub nodes in processes of their own. Two measurements:
// - ingest: devices spread over the nodes send batched readings, each batch
//   waiting for its durable ack;
// - fan-out: operators on /console, spread over the nodes, subscribed to
//   every device, while devices stream; every batch reaches every operator
//   (through Redis when they are on different nodes).
// CPU time is read per process from /proc (hub nodes, PostgreSQL with its
// backends, Redis), so the cost per reading of each part is measured even
// where two cores cannot show the throughput of three machines.
import { startHubCluster } from '../helpers/hub-cluster.mjs';
import { api, connect } from './lib/cluster-client.mjs';
import { cpuDiff, cpuOf } from './lib/proc-cpu.mjs';
import { fmt, percentile, printTable } from './lib/stats.mjs';

const config = {
  devices: Number(process.env.BENCH_DEVICES ?? 120),
  batch: Number(process.env.BENCH_BATCH ?? 50),
  batches: Number(process.env.BENCH_BATCHES ?? 20),
  operators: Number(process.env.BENCH_OPERATORS ?? 12),
  fanoutBatches: Number(process.env.BENCH_FANOUT_BATCHES ?? 10),
  nodes: (process.env.BENCH_NODES ?? '1,3').split(',').map(Number),
};
/** Each device sends `batches` batches one after the other; returns the ack latencies. */
async function stream(sockets, batches, seqBase) {
  const latencies = [];
  const t0 = Date.now() - 600_000;
  await Promise.all(
    sockets.map(async (socket) => {
      for (let b = 0; b < batches; b++) {
        const readings = [];
        for (let i = 1; i <= config.batch; i++) {
          const seq = seqBase + b * config.batch + i;
          readings.push({ seq, ts: t0 + seq, values: { temp: 20 + (seq % 7) / 10, rh: 40 } });
        }
        const sent = performance.now();
        const ack = await socket.timeout(60_000).emitWithAck('telemetry', readings);
        latencies.push(performance.now() - sent);
        if (!ack.ok) throw new Error(`refused: ${ack.error}`);
      }
    }),
  );
  return latencies;
}

async function measure(nodes) {
  const cluster = await startHubCluster({
    nodes,
    nodeArgs: ['--handshake-rate-per-address', '0', '--max-sessions-per-address', '0', '--max-connections-per-address', '0', '--log-level', 'error'],
  });
  const sockets = [];
  try {
    await api(cluster, 'POST', '/api/sites', { id: 'bench' });
    await api(cluster, 'POST', '/api/classes', { id: 'sensor' });
    // Devices straight to the nodes, round robin (what the balancer does), so HAProxy's own cost stays out.
    for (let d = 0; d < config.devices; d++) {
      const { token } = await api(cluster, 'POST', '/api/devices', { id: `dev-${d}`, classId: 'sensor', siteId: 'bench' });
      sockets.push(await connect(cluster.nodes[d % nodes].url, '/devices/sensor', { deviceId: `dev-${d}`, token }));
    }
    await new Promise((r) => setTimeout(r, 1000));

    const readings = config.devices * config.batches * config.batch;
    let before = cpuOf(cluster);
    let start = performance.now();
    const ingestLatencies = await stream(sockets, config.batches, 0);
    const ingestSeconds = (performance.now() - start) / 1000;
    const ingestCpu = cpuDiff(before, cpuOf(cluster));

    const operators = [];
    let delivered = 0;
    for (let o = 0; o < config.operators; o++) {
      const op = await connect(cluster.nodes[o % nodes].url, '/console', { token: cluster.adminToken });
      op.on('telemetry', () => delivered++);
      await op.emitWithAck('subscribe', {});
      operators.push(op);
    }
    sockets.push(...operators);
    const expected = config.devices * config.fanoutBatches * config.operators;
    before = cpuOf(cluster);
    start = performance.now();
    const fanoutLatencies = await stream(sockets.slice(0, config.devices), config.fanoutBatches, config.batches * config.batch);
    const deadline = Date.now() + 60_000;
    while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const fanoutSeconds = (performance.now() - start) / 1000;
    const fanoutCpu = cpuDiff(before, cpuOf(cluster));
    if (delivered !== expected) throw new Error(`${nodes} node(s): operators got ${delivered} of ${expected} telemetry messages`);
    return { nodes, readings, ingestSeconds, ingestCpu, ingestLatencies, fanout: expected, fanoutSeconds, fanoutCpu, fanoutLatencies, fanoutReadings: config.devices * config.fanoutBatches * config.batch };
  } finally {
    for (const s of sockets) s.close();
    await cluster.stop();
  }
}

export async function run() {
  console.log(
    `\n## Scale-out: 1 and 3 hub nodes (Redis, PostgreSQL, nodes on this machine); ${config.devices} devices x ${config.batches} batches of ${config.batch} readings, acked; ` +
      `then fan-out to ${config.operators} /console operators subscribed to all (${config.fanoutBatches} batches per device)\n`,
  );
  const results = [];
  for (const n of config.nodes) results.push(await measure(n));
  printTable(
    ['nodes', 'ingest readings/s', 'ack p50 ms', 'ack p99 ms', 'hub CPU ms / 1k readings', 'PG CPU ms / 1k', 'Redis CPU ms / 1k', 'fan-out msgs/s', 'hub CPU ms / 1k msgs delivered', 'Redis CPU ms / 1k msgs'],
    results.map((r) => [
      r.nodes,
      fmt(r.readings / r.ingestSeconds),
      fmt(percentile(r.ingestLatencies, 50)),
      fmt(percentile(r.ingestLatencies, 99)),
      fmt((r.ingestCpu.nodes * 1e6) / r.readings),
      fmt((r.ingestCpu.pg * 1e6) / r.readings),
      fmt((r.ingestCpu.redis * 1e6) / r.readings),
      fmt(r.fanout / r.fanoutSeconds),
      fmt((r.fanoutCpu.nodes * 1e6) / r.fanout),
      fmt((r.fanoutCpu.redis * 1e6) / r.fanout),
    ]),
  );
  console.log('');
  for (const r of results) {
    // One core per node for the hub; the database is shared, so its cost per reading bounds the whole cluster.
    const hubPerNodeCore = r.readings / r.ingestCpu.nodes;
    const pgPerCore = r.readings / Math.max(r.ingestCpu.pg, 1e-9);
    console.log(
      `${r.nodes} node(s): one hub core ingests ~${fmt(hubPerNodeCore, 0)} readings/s; one PostgreSQL core commits ~${fmt(pgPerCore, 0)} readings/s ` +
        `(projection for M machines of one core each: min(M x ${fmt(hubPerNodeCore, 0)}, PostgreSQL cores x ${fmt(pgPerCore, 0)}))`,
    );
  }
  return results.map((r) => ({ nodes: r.nodes, ingestRate: r.readings / r.ingestSeconds, fanoutRate: r.fanout / r.fanoutSeconds, ingestCpu: r.ingestCpu, fanoutCpu: r.fanoutCpu }));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
