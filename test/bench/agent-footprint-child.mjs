// Benchmark child: either the sitehub agent (Agent with one serial source on a
// pty and a SQLite outbox) or a minimal agent built on socket.io-client (reads
// the same pty lines, stores nothing, emits telemetry with acks). Run by
// agent-footprint.mjs, which asks for memory, CPU time and replays over IPC.
import { cpuSeconds, serveRequests, settledRss } from './lib/child.mjs';

const [impl, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson);

async function startSitehub() {
  const { Agent } = await import('../../device-client/dist/agent.js');
  const { validateConfig } = await import('../../device-client/dist/config.js');
  const agent = new Agent(validateConfig(config));
  agent.start();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && agent.sourceInfos().some((s) => s.status !== 'open')) await new Promise((r) => setTimeout(r, 20));
  return {
    acked: () => agent.stats.ackedReadings,
    depth: () => agent.outbox.depth,
    async replayFromMemory() {
      throw new Error('the sitehub agent replays from its outbox');
    },
  };
}

async function startMinimal() {
  const { io } = await import('socket.io-client');
  const { SerialPort } = await import('serialport');
  const { ReadlineParser } = await import('@serialport/parser-readline');
  const { hub, sources } = config;
  const socket = io(`${hub.url}/devices/${hub.class}`, { auth: { deviceId: hub.deviceId, token: hub.token }, transports: ['websocket'] });
  await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
  let seq = 0;
  let acked = 0;
  if (sources?.length) {
    const port = new SerialPort({ path: sources[0].path, baudRate: 9600 });
    await new Promise((resolve, reject) => (port.once('open', resolve), port.once('error', reject)));
    port.pipe(new ReadlineParser()).on('data', (line) => {
      let values;
      try {
        values = JSON.parse(line);
      } catch {
        return;
      }
      socket.emit('telemetry', { seq: ++seq, ts: Date.now(), values }, (ack) => ack?.ok && acked++);
    });
  }
  return {
    acked: () => acked,
    depth: () => 0,
    /** The same batches as the agent's replay, from memory: the ceiling without a durable outbox. */
    async replayFromMemory({ count, batchSize, inFlight }) {
      const start = seq;
      const ts = Date.now();
      let next = 0;
      const lane = async () => {
        while (next < count) {
          const n = Math.min(batchSize, count - next);
          const batch = Array.from({ length: n }, (_, i) => ({ seq: start + next + i + 1, ts, values: { temp: 21.5, rh: 40, i: next + i } }));
          next += n;
          const answer = await socket.timeout(30_000).emitWithAck('telemetry', batch);
          if (answer.ok) acked += n;
        }
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: inFlight }, lane));
      seq = start + count;
      return { seconds: (performance.now() - t0) / 1000 };
    },
  };
}

const handle = impl === 'sitehub' ? await startSitehub() : await startMinimal();
serveRequests({
  stats: async () => ({ rss: await settledRss(), cpu: cpuSeconds(), acked: handle.acked(), depth: handle.depth() }),
  cpu: async () => ({ cpu: cpuSeconds(), acked: handle.acked(), depth: handle.depth() }),
  replay: async (msg) => handle.replayFromMemory(msg),
});
process.on('SIGTERM', () => process.exit(0));
process.send({ type: 'ready', port: 0 });
