#!/usr/bin/env node
// The `sitehub` command: configuration from file, environment and flags,
// the hub on the configured port, the admin token printed on first start,
// graceful shutdown on SIGINT/SIGTERM.
import { ConfigError, DEFAULT_CONFIG, loadConfig, usage } from './config/index.js';
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
  try {
    hub = createHub(config);
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
    hub.log.info({ port, host: config.host, dataDir: config.dataDir }, `sitehub listening on http://${config.host}:${port}`);
    process.send?.({ type: 'ready', port });
  } catch (err) {
    console.error(`sitehub: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
    await hub.close().catch(() => {});
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
      () => process.exit(0),
      (err) => {
        hub.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

await main();
