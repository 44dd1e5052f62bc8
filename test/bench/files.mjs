// Benchmark: hub -> device file throughput. The same bytes go from this
// process to a receiver process twice per round: through the hub (REST
// upload stored first, then the file protocol: offer, credit-granted chunks
// with CRC-32, SHA-256 and an fsync+rename at the end, on a device's
// Socket.IO connection) and through a raw `ws` server sending the bytes as
// binary frames of the same size (the receiver hashes, writes, fsyncs and
// renames them the same way). Both are timed by the receiver, from the
// transfer's first message to the file in place. Target: sitehub >= 70% of ws.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { createHub } from '@sitehub/hub';
import { fmt, median, printTable } from './lib/stats.mjs';

const MB = Number(process.env.BENCH_FILE_MB ?? 64);
const ROUNDS = Number(process.env.BENCH_FILE_ROUNDS ?? 5);
const CHUNK = Number(process.env.BENCH_FILE_CHUNK_KB ?? 256) * 1024;
const WINDOW = Number(process.env.BENCH_FILE_WINDOW ?? 8);
const ADMIN = 'bench-admin-token-0123456789';
const RECEIVER = new URL('./files-receiver.mjs', import.meta.url).pathname;

function receiver(args) {
  const child = fork(RECEIVER, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type) => new Promise((resolve, reject) => {
    const on = (m) => m.type === type && (child.off('message', on), resolve(m));
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
  });
  const stop = () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))));
  return { next, stop };
}

async function api(base, method, path, body, headers = { 'content-type': 'application/json' }) {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, ...headers }, body: typeof body === 'string' || body === undefined ? body : body instanceof Uint8Array ? body : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function sitehubRound(bytes, sha256, dir, round) {
  const dataDir = join(dir, `hub-${round}`);
  const hub = createHub({ dataDir, port: 0, host: '127.0.0.1', adminToken: ADMIN, logLevel: 'silent', fileChunkBytes: CHUNK, fileWindowChunks: WINDOW, fileMaxBytes: 2 ** 31 });
  const { port } = await hub.listen();
  const base = `http://127.0.0.1:${port}`;
  await api(base, 'POST', '/api/sites', { id: 's' });
  await api(base, 'POST', '/api/classes', { id: 'c' });
  const { token } = await api(base, 'POST', '/api/devices', { id: 'd', classId: 'c', siteId: 's' });
  const r = receiver(['sitehub', `${base}/devices/c`, join(dir, `in-sitehub-${round}`), 'd', token, String(WINDOW)]);
  await r.next('ready');
  const done = r.next('done');
  await api(base, 'POST', '/api/files?name=image.bin&deviceId=d', bytes, { 'content-type': 'application/octet-stream' });
  const result = await done;
  await r.stop();
  await hub.close();
  if (!result.ok || result.sha256 !== sha256) throw new Error('sitehub: the file arrived wrong');
  return result;
}

async function wsRound(bytes, sha256, dir, round) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const connected = new Promise((resolve) => wss.once('connection', resolve));
  const r = receiver(['ws', `ws://127.0.0.1:${wss.address().port}`, join(dir, `in-ws-${round}`)]);
  await r.next('ready');
  const ws = await connected;
  const done = r.next('done');
  ws.send(JSON.stringify({ name: 'image.bin', size: bytes.length, sha256 }));
  for (let off = 0; off < bytes.length; off += CHUNK) {
    // Wait for each frame to reach the socket: the sender holds one chunk, not the file, like the hub.
    await new Promise((resolve, reject) => ws.send(bytes.subarray(off, off + CHUNK), (err) => (err ? reject(err) : resolve())));
  }
  const result = await done;
  await r.stop();
  await new Promise((r2) => wss.close(r2));
  if (!result.ok) throw new Error('ws: the file arrived wrong');
  return result;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-bench-files-'));
  try {
    const bytes = randomBytes(MB * 1024 * 1024);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const times = { sitehub: [], ws: [] };
    const cpu = { sitehub: [], ws: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternated, so that a busy moment of the machine falls on both.
      const w = await wsRound(bytes, sha256, dir, round);
      const h = await sitehubRound(bytes, sha256, dir, round);
      // Each round's files go before the next, so that page-cache writeback of one does not land on another.
      for (const sub of [`hub-${round}`, `in-ws-${round}`, `in-sitehub-${round}`]) rmSync(join(dir, sub), { recursive: true, force: true });
      times.ws.push(w.ms);
      times.sitehub.push(h.ms);
      cpu.ws.push(w.cpuMs);
      cpu.sitehub.push(h.cpuMs);
    }
    const mbps = (ms) => MB / (ms / 1000);
    const s = median(times.sitehub.map(mbps));
    const w = median(times.ws.map(mbps));
    console.log(`\n## files: ${MB} MB hub -> device, ${CHUNK / 1024} KiB chunks, window ${WINDOW}, ${ROUNDS} rounds (median)`);
    printTable(
      ['transfer', 'MB/s', 'receiver CPU ms (median)', 'rounds (MB/s)'],
      [
        ['raw ws (frames, hash, write, fsync)', fmt(w, 1), fmt(median(cpu.ws), 0), times.ws.map((t) => fmt(mbps(t), 1)).join(', ')],
        ['sitehub file (offer, credit, CRC, SHA-256, fsync)', fmt(s, 1), fmt(median(cpu.sitehub), 0), times.sitehub.map((t) => fmt(mbps(t), 1)).join(', ')],
      ],
    );
    // Each round's pair ran back to back: the median of their ratios is steadier than the ratio of medians on a busy machine.
    const ratios = times.ws.map((t, i) => t / times.sitehub[i]);
    console.log(`sitehub / ws: ${fmt(s / w, 2)}x by medians, ${fmt(median(ratios), 2)}x median of per-round ratios (${ratios.map((r) => fmt(r, 2)).join(', ')}); target >= 0.70`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
