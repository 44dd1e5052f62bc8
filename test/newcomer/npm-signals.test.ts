// `npm run demo` and `npm start` stop when npm's own process gets SIGINT (a
// supervisor, a test harness or `kill -INT` — not only a terminal's Ctrl-C,
// which reaches every process of the group). npm forwards the signal to its
// child; without `exec` that child was `sh -c`, which waits for its command
// and never passes the signal on.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const running: ChildProcess[] = [];

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Runs `npm <args>` in its own process group (so a leftover can be killed), resolves once `ready` is printed. */
async function npmUntil(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ npm: ChildProcess; output: () => string }> {
  const npm = spawn('npm', args, { cwd: root, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(npm);
  let out = '';
  npm.stdout!.on('data', (d) => (out += d));
  npm.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} within 30 s:\n${out}`)), 30_000);
    const check = () => ready.test(out) && (clearTimeout(timer), resolve());
    npm.stdout!.on('data', check);
    npm.stderr!.on('data', check);
    npm.once('exit', (code) => reject(new Error(`npm exited (${code}) before ready:\n${out}`)));
  });
  return { npm, output: () => out };
}

/** Sends SIGINT to npm's process only and waits for npm to exit; returns its exit code. */
async function interruptNpm(npm: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  npm.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000).unref())]);
  if (code === 'still running') throw new Error('npm is still running 15 s after SIGINT');
  return code;
}

async function refused(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => false,
    () => true,
  );
}

describe('npm scripts stop on SIGINT to npm', () => {
  it('npm run demo: the hub, agents and bridge stop and the data dir is removed', async () => {
    const port = await freePort();
    const { npm, output } = await npmUntil(['run', 'demo'], { DEMO_PORT: String(port) }, /Press Ctrl-C to stop/);
    const dataDir = /data\s+(\S+) \(removed on exit\)/.exec(output())![1]!;
    try {
      expect(existsSync(dataDir)).toBe(true);
      expect(await refused(port)).toBe(false);
      expect(await interruptNpm(npm)).toBe(0);
      expect(await refused(port)).toBe(true);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('npm start: the hub stops', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'sitehub-npm-start-'));
    try {
      // --ignore-scripts skips prestart (install and build): a rebuild of dist/ under the other tests' feet.
      const { npm } = await npmUntil(['start', '--ignore-scripts', '--', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {}, /listening/);
      expect(await refused(port)).toBe(false);
      expect(await interruptNpm(npm)).toBe(0);
      expect(await refused(port)).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
