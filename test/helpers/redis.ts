// A real redis-server (Debian's) for tests: a free 127.0.0.1 port, its own
// temp folder, no persistence, stop/start on the same port, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** A Redis under test. */
export interface TestRedis {
  port: number;
  url: string;
  /** Kills the server (SIGKILL by default: nothing to save) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
  /** What the server logged (for failure messages). */
  log(): string;
}

function ping(port: number): Promise<boolean> {
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

/** Starts redis-server on a free loopback port; call stop() in afterAll. */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    child = proc;
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid!, signal);
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
