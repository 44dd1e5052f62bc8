#!/usr/bin/env node
// The `sitehub` command: configuration from file, environment and flags,
// the hub on the configured port, the admin token printed on first start,
// graceful shutdown on SIGINT/SIGTERM.
import { ConfigError, DEFAULT_CONFIG, loadConfig, usage } from './config/index.js';
import { loopbackOnly, urlHost } from './http/listen.js';
import { connectRedisAdapter, type RedisConnection } from './cluster/connect.js';
import { createHub, type Hub } from './hub.js';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sitehub: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (loaded.help) {
    console.log(usage(DEFAULT_CONFIG));
    return;
  }
  const { config } = loaded;
  let hub: Hub;
  let redis: RedisConnection | undefined;
  try {
    if (config.redis !== undefined) {
      // A cluster node: every node must see the same devices, commands and streams (docs/scaling.md).
      if (!/^postgres(ql)?:\/\//.test(config.database)) throw new Error('--redis (a cluster node) needs a shared --database postgres://…; SQLite is one hub\'s file');
      let quietUntil = 0;
      redis = await connectRedisAdapter(config.redis, (err) => {
        // node-redis reports every failed reconnection; once in 10 s is enough to read (/readyz has the state).
        if (Date.now() < quietUntil) return;
        quietUntil = Date.now() + 10_000;
        console.error(`sitehub: redis: ${err.message} (reconnecting; further errors in the next 10 s not shown)`);
      });
    }
    hub = createHub(config, redis ? { adapter: redis.adapter } : {});
  } catch (err) {
    console.error(`sitehub: cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  if (hub.adminTokenCreated) {
    // Printed once: afterwards it is only in the data folder, readable by its owner.
    console.log(`\n[sitehub] admin token (also kept in ${config.dataDir}/admin-token):\n\n    ${hub.adminToken}\n`);
  }
  try {
    const { port } = await hub.listen();
    logListening(hub, port);
    process.send?.({ type: 'ready', port });
  } catch (err) {
    console.error(`sitehub: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
    await hub.close().catch(() => {});
    await redis?.close();
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    hub.log.info({ signal }, 'shutting down: closing sessions and flushing the store');
    setTimeout(() => {
      hub.log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    hub.close().then(
      async () => {
        await redis?.close();
        process.exit(0);
      },
      (err) => {
        hub.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // With TLS, SIGHUP reloads the certificates (renewed by certbot, an ACME client or by
  // hand) without dropping a connection, as daemons do; without TLS it keeps ending the process.
  if (hub.tls) {
    process.on('SIGHUP', () => {
      try {
        hub.reloadTls();
        hub.log.info({ tlsCert: config.tlsCert }, 'TLS certificates reloaded; new connections use them');
      } catch (err) {
        hub.log.error({ err }, 'TLS certificates not reloaded; the previous ones stay in use');
      }
    });
  }
}

/** The start-up lines: every address, TLS and client certificates, and how to change where the hub listens. */
function logListening(hub: Hub, port: number): void {
  const { config } = hub;
  const scheme = hub.tls ? 'https' : 'http';
  const urls = hub.addresses.bound.map((a) => `${scheme}://${urlHost(a)}:${port}`);
  const tls = hub.tls ? `TLS on (HTTPS and WSS), client certificates: ${config.tlsClientAuth}` : 'TLS off (clear HTTP and WS)';
  hub.log.info({ addresses: urls, tls: hub.tls, tlsClientAuth: config.tlsClientAuth, dataDir: config.dataDir }, `sitehub listening on ${urls.join(', ')}; ${tls}`);
  for (const { address, reason } of hub.addresses.skipped) hub.log.info(`not listening on ${urlHost(address)}: this machine lacks that address (${reason})`);
  if (loopbackOnly(hub.addresses.bound)) {
    hub.log.info('loopback only: to accept devices from the network, start with --host 0.0.0.0 (IPv4) or --host :: (IPv4 and IPv6), or set SITEHUB_HOST; --port changes the port; see docs/security.md');
  } else if (!hub.tls) {
    hub.log.warn('listening beyond loopback without TLS: tokens and data cross the network in clear; set --tls-cert and --tls-key, or run behind a TLS proxy (docs/security.md)');
  }
}

await main();
