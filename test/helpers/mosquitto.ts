// A real Mosquitto 2 broker for tests: a free 127.0.0.1 port, a generated
// config, persistence in a temp folder (so a restart keeps QoS 1 sessions),
// stop/start on the same port, everything removed by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/** A broker under test. */
export interface TestBroker {
  port: number;
  url: string;
  dir: string;
  /** Kills the broker (SIGTERM: it saves its persistence file) and waits for it to exit; rejects if the save failed. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same persistence. */
  start(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
  /** What the broker logged (for failure messages). */
  log(): string;
  /** The running broker's process id (to freeze it with SIGSTOP), if it runs. */
  pid(): number | undefined;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ port, host: '127.0.0.1' });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

/** Starts Mosquitto on a free loopback port; call stop() in afterAll/afterEach. */
export async function startMosquitto(extraConfig: string[] = []): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Started as root, Mosquitto 2 switches to the `mosquitto` user, which
      // cannot write into our 0700 temp folder, so it would lose every session
      // on restart: stay root then (a non-root user cannot switch anyway).
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'persistence true',
      `persistence_location ${dir}/`,
      // Unlimited queue for offline persistent sessions: the tests count every message.
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      ...extraConfig,
    ].join('\n') + '\n',
  );
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      output = '';
      const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout!.on('data', (d) => (output += d));
      proc.stderr!.on('data', (d) => (output += d));
      let exited = false;
      proc.once('exit', () => (exited = true));
      while (!exited && Date.now() < deadline) {
        if (await accepts(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      // The port can stay busy for a moment after a kill: try again.
      if (Date.now() >= deadline) throw new Error(`mosquitto did not start on ${port}: ${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      // 'close', not 'exit': the broker's last log lines are read by then.
      proc.once('close', () => (clearTimeout(force), resolve()));
      proc.kill(signal);
    });
    // A restart test is meaningless if the sessions were not saved: say so here
    // rather than as a missing message a minute later.
    if (/Error saving in-memory database/.test(output)) throw new Error(`mosquitto could not save its persistence: ${output}`);
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    kill,
    pid: () => child?.pid,
    start,
    async stop() {
      try {
        await kill();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    log: () => output,
  };
}
