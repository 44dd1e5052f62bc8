// A real PostgreSQL 15 cluster for tests and benchmarks (plain JavaScript so
// that the benchmarks, which run without a TypeScript loader, share it;
// postgres.ts gives the tests its types): initdb into a temp folder, the
// postmaster on a free 127.0.0.1 port with its unix socket inside that
// folder, stop/start on the same port (to restart the database under a
// running hub), everything removed by stop(). PostgreSQL refuses to run as
// root, so when the tests run as root (CI does) the cluster runs as the
// unprivileged `nobody`, through setpriv so that the PID we hold is the
// postmaster's own.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createServer } from 'node:net';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The database superuser the test cluster is made with (trust auth, loopback only). */
const SUPERUSER = 'sitehub';


/** Runs a PostgreSQL program as the cluster's owner; returns it, not started, with its command line. */
function asOwner(program, args) {
  const bin = join(PG_BIN, program);
  if (process.getuid?.() !== 0) return { command: bin, args };
  const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  if (nobody.status !== 0) throw new Error('the tests run as root and there is no `nobody` user to run PostgreSQL as');
  const uid = nobody.stdout.trim();
  const gid = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim();
  return { command: 'setpriv', args: [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', bin, ...args] };
}

let seq = 0;

/**
 * Makes and starts a throwaway cluster; call stop() in afterAll. With
 * `detached`, the server gets a process group of its own, so a terminal's
 * Ctrl-C reaches only the script that started it (which stops it in order).
 */
/** @returns {Promise<import('./postgres.js').TestPostgres>} */
export async function startPostgres({ detached = false } = {}) {
  if (!existsSync(join(PG_BIN, 'postgres'))) {
    throw new Error(`PostgreSQL 15 is not installed (no ${PG_BIN}/postgres): apt-get install postgresql (scripts/system-deps.mjs does it)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const init = asOwner('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const made = spawnSync(init.command, init.args, { encoding: 'utf8', cwd: dir });
  if (made.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${made.stderr || made.stdout}`);
  }
  const port = await freePort();
  let child;
  let output = '';

  const url = (db = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${db}`;
  const accepting = async () => {
    const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  };

  const start = async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      output = '';
      const run = asOwner('postgres', [
        '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
        // Durability as in production: every commit reaches the disk before it returns.
        '-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'max_connections=100',
      ]);
      const proc = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, detached });
      child = proc;
      proc.stdout.on('data', (d) => (output += d));
      proc.stderr.on('data', (d) => (output += d));
      let exited = false;
      proc.once('exit', () => (exited = true));
      while (!exited && Date.now() < deadline) {
        if (await accepting()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (Date.now() >= deadline) throw new Error(`postgres did not start on ${port}: ${output}`);
      // The port can stay busy for a moment after a stop: try again.
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  const kill = async (mode = 'fast') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise((resolve) => {
      const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('close', () => (clearTimeout(force), resolve()));
      proc.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    });
  };

  await start();
  return {
    port,
    dir,
    url,
    async createDatabase() {
      const name = `t_${process.pid}_${++seq}`;
      const admin = new pg.Client({ connectionString: url() });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    kill,
    start,
    async stop() {
      try {
        await kill('fast');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    log: () => output,
  };
}
