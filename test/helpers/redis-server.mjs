// A real redis-server (Debian's) for tests, benchmarks and `npm run cluster`:
// a free 127.0.0.1 port, its own temp folder, no persistence, stop/start on
// the same port, stopped by PID. Plain JavaScript so that scripts without a
// TypeScript loader share it; redis.ts gives the tests its types.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = tcpConnect({ port, host: '127.0.0.1' });
    let answer = '';
    sock.setTimeout(1000, () => (sock.destroy(), resolve(false)));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) {
        sock.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    sock.once('error', () => resolve(false));
  });
}

/** Starts redis-server on a free loopback port; call stop() at the end. `detached`: a process group of its own (see postgres-cluster.mjs). */
/** @returns {Promise<import('./redis.js').TestRedis>} */
export async function startRedis({ detached = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-redis-'));
  const port = await freeLoopbackPort();
  let child;
  let output = '';
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'], detached });
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    child = proc;
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (signal = 'SIGKILL') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid, signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** The server's PID while it runs (for CPU accounting in benchmarks). */
    pid: () => child?.pid,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
