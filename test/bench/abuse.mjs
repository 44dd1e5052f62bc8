// Benchmark: the hub under abuse. The hub runs with its default settings in
// a child process. 200 devices, each from its own loopback address
// (127.0.0.2 ... 127.0.0.201), stream acked telemetry with real tokens at a
// steady pace. Two phases in the same run: quiet (devices only), then
// attacked: one address (127.0.0.1, in a process of its own) floods
// Engine.IO handshakes and guesses device tokens. Reported: the devices' ack
// p50/p99 in each phase and their ratio (target: attacked p99 within 2x of
// quiet), and what the attacker got (handshakes accepted per second, guesses
// answered per second).
import { fork } from 'node:child_process';
import { io } from 'socket.io-client';
import { startServerProcess } from './lib/child.mjs';
import { fmt, percentile, printTable } from './lib/stats.mjs';

const SERVER = new URL('./abuse-server.mjs', import.meta.url).pathname;
const ATTACKER = new URL('./abuse-attacker.mjs', import.meta.url).pathname;

const config = {
  devices: Math.min(200, Number(process.env.BENCH_DEVICES ?? 200)),
  seconds: Math.min(30, Number(process.env.BENCH_ABUSE_SECONDS ?? 10)),
  /** Pause between one ack and the next batch, per device. */
  periodMs: Number(process.env.BENCH_PERIOD_MS ?? 250),
  batch: 10,
};

/** The device's own loopback address: 127.0.0.2 for the first, up to 127.0.0.201. */
const deviceAddress = (i) => `127.0.0.${2 + (i % 200)}`;

async function connectDevices(port, tokens) {
  const sockets = [];
  for (let i = 0; i < tokens.length; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map(({ deviceId, token }, j) => {
        const socket = io(`http://127.0.0.1:${port}/devices/sensor`, {
          auth: { deviceId, token },
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
          localAddress: deviceAddress(i + j),
        });
        sockets.push(socket);
        return new Promise((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
      }),
    );
  }
  return sockets;
}

/** Every device sends a batch, waits for its ack, pauses `periodMs`, until `seconds` have passed. */
async function streamPhase(sockets, seqs, seconds) {
  const latencies = [];
  let failures = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    sockets.map(async (socket, d) => {
      // Spread the first sends over one period so the devices do not beat in step.
      await new Promise((r) => setTimeout(r, (d * config.periodMs) / sockets.length));
      while (Date.now() < deadline) {
        const readings = [];
        for (let i = 0; i < config.batch; i++) {
          const seq = ++seqs[d];
          readings.push({ seq, ts: Date.now(), values: { temp: 20 + (seq % 7) / 10, rh: 40 } });
        }
        const sent = performance.now();
        try {
          const ack = await socket.timeout(30_000).emitWithAck('telemetry', readings);
          if (ack?.ok) latencies.push(performance.now() - sent);
          else failures++;
        } catch {
          failures++;
        }
        await new Promise((r) => setTimeout(r, config.periodMs));
      }
    }),
  );
  return { latencies, failures, connected: sockets.filter((s) => s.connected).length };
}

function startAttacker(port, seconds) {
  const child = fork(ATTACKER, [String(port), String(seconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => code !== 0 && reject(new Error(`attacker exited with ${code}`)));
  });
  return { child, result };
}

export async function run() {
  console.log(
    `\n## Abuse: ${config.devices} devices (127.0.0.2 ...) streaming acked telemetry (${config.batch} readings, then ${config.periodMs} ms pause), ` +
      `${config.seconds} s quiet, then ${config.seconds} s while 127.0.0.1 floods handshakes and guesses tokens; hub with default settings\n`,
  );
  const server = startServerProcess(SERVER);
  const port = await server.ready;
  let sockets = [];
  let attacker;
  try {
    const { tokens } = await server.request('setup', { devices: config.devices });
    sockets = await connectDevices(port, tokens);
    const seqs = new Array(sockets.length).fill(0);

    const q0 = await server.request('stats');
    const quiet = await streamPhase(sockets, seqs, config.seconds);
    const q1 = await server.request('stats');

    attacker = startAttacker(port, config.seconds);
    const attacked = await streamPhase(sockets, seqs, config.seconds);
    const attack = await attacker.result;
    const a1 = await server.request('stats');

    const row = (name, phase, cpu, attackCols) => [
      name,
      phase.latencies.length,
      phase.failures,
      `${phase.connected}/${sockets.length}`,
      fmt(percentile(phase.latencies, 50)),
      fmt(percentile(phase.latencies, 99)),
      fmt(cpu),
      ...attackCols,
    ];
    printTable(
      ['phase', 'device acks', 'failed', 'devices connected after', 'ack p50 ms', 'ack p99 ms', 'hub CPU s', 'handshakes accepted/s', 'handshakes refused/s', 'guesses answered/s', 'tokens checked/s', 'guesses accepted'],
      [
        row('quiet', quiet, q1.cpu - q0.cpu, ['-', '-', '-', '-', '-']),
        row('attacked', attacked, a1.cpu - q1.cpu, [
          fmt(attack.handshakesAccepted / attack.seconds),
          fmt((attack.handshakesRefused + attack.handshakeErrors) / attack.seconds),
          fmt(attack.guessesAnswered / attack.seconds),
          fmt(attack.guessesChecked / attack.seconds),
          attack.guessesAccepted,
        ]),
      ],
    );
    const p50Ratio = percentile(attacked.latencies, 50) / percentile(quiet.latencies, 50);
    const p99Ratio = percentile(attacked.latencies, 99) / percentile(quiet.latencies, 99);
    const ackRate = attacked.latencies.length / Math.max(1, quiet.latencies.length);
    console.log(
      `\nratio attacked/quiet: ack p50 ${fmt(p50Ratio)}x, ack p99 ${fmt(p99Ratio)}x (target p99 <= 2.00x: ${p99Ratio <= 2 ? 'met' : 'NOT met'}), ` +
        `device acks ${fmt(ackRate)}x; hub engine sessions after the attack: ${a1.engineClients}, hub RSS ${fmt(a1.rss / 2 ** 20, 0)} MiB; ` +
        `attacker WebSockets closed by the hub before the deadline: ${attack.guessSocketsClosedEarly}`,
    );
    return { quiet, attacked, attack, p50Ratio, p99Ratio };
  } finally {
    attacker?.child.kill('SIGTERM');
    for (const s of sockets) s.close();
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
