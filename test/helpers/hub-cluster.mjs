// A whole cluster on this machine: one Redis, one PostgreSQL, N hub nodes
// (the `sitehub` command, built, in child processes) and HAProxy in front.
// Used by `npm run cluster`, the cluster tests and the cluster benchmarks.
// Every process is ours, on a free loopback port with its own temp folder,
// and stopped by its PID.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHaproxy } from './haproxy.mjs';
import { startPostgres } from './postgres-cluster.mjs';
import { freeLoopbackPort, startRedis } from './redis-server.mjs';

const MAIN = fileURLToPath(new URL('../../hub/dist/main.js', import.meta.url));

/** Starts one hub node; resolves once it listens. */
function startNode(node, common) {
  const args = [
    '--port', String(node.port), '--host', '127.0.0.1', '--node-id', node.id, '--data-dir', node.dataDir,
    '--database', common.databaseUrl, '--redis', node.redisUrl ?? common.redisUrl, '--admin-token', common.adminToken,
    '--log-level', common.logLevel, '--advertise-url', node.url, ...common.nodeArgs,
  ];
  const child = fork(common.hubMain ?? MAIN, args, { stdio: ['ignore', common.quiet ? 'ignore' : 'inherit', 'inherit', 'ipc'], execArgv: [], detached: common.detached });
  node.child = child;
  return new Promise((resolve, reject) => {
    const onExit = (code, signal) => reject(new Error(`hub node ${node.id} exited (${code ?? signal}) before it listened`));
    child.once('exit', onExit);
    child.on('message', (msg) => {
      if (msg?.type !== 'ready') return;
      child.off('exit', onExit);
      resolve();
    });
  });
}

/**
 * Starts Redis, PostgreSQL, `nodes` hub nodes and HAProxy.
 * Options: nodes (3), nodeArgs (extra `sitehub` flags), logLevel ('warn'), quiet (drop the nodes' stdout), haproxyPort, checkIntervalMs,
 * affinity (HAProxy's cookie, default true; without it the nodes forward polling requests),
 * hubMain (another build's hub/dist/main.js, for a benchmark's reference), redisUrlFor (async (nodeId, redisUrl) => the URL that node uses, e.g. through a proxy; default redisUrl), detached (every process in a group of its own, so that a terminal's Ctrl-C reaches only the caller, which stops them in order).
 */
export async function startHubCluster(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-cluster-'));
  const started = [];
  try {
    const detached = opts.detached === true;
    const redis = await startRedis({ detached });
    started.push(() => redis.stop());
    const pg = await startPostgres({ detached });
    started.push(() => pg.stop());
    const common = {
      databaseUrl: await pg.createDatabase(),
      redisUrl: redis.url,
      adminToken: opts.adminToken ?? randomBytes(24).toString('base64url'),
      logLevel: opts.logLevel ?? 'warn',
      nodeArgs: opts.nodeArgs ?? [],
      quiet: opts.quiet ?? true,
      detached,
      hubMain: opts.hubMain,
    };
    const nodes = [];
    for (let i = 1; i <= (opts.nodes ?? 3); i++) {
      const node = { id: `node-${i}`, port: await freeLoopbackPort(), dataDir: join(dir, `node-${i}`), child: undefined };
      node.url = `http://127.0.0.1:${node.port}`;
      if (opts.redisUrlFor) node.redisUrl = await opts.redisUrlFor(node.id, redis.url);
      node.start = () => startNode(node, common);
      node.kill = async (signal = 'SIGKILL') => {
        const child = node.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, signal);
        await exited;
      };
      nodes.push(node);
      started.push(() => node.kill('SIGTERM'));
    }
    // The first node migrates the schema; the others start together after it.
    await nodes[0].start();
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    const haproxy = await startHaproxy(nodes.map((n) => ({ name: n.id, port: n.port })), { port: opts.haproxyPort, checkIntervalMs: opts.checkIntervalMs ?? 500, detached, affinity: opts.affinity !== false });
    started.push(() => haproxy.stop());
    return {
      url: haproxy.url,
      adminToken: common.adminToken,
      databaseUrl: common.databaseUrl,
      redis,
      pg,
      haproxy,
      nodes,
      /** Stops everything: HAProxy, the nodes (SIGTERM, a clean close), Redis, PostgreSQL. */
      async stop() {
        for (const stop of started.reverse()) await stop().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
