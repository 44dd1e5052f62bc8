#!/usr/bin/env node
// The sitehub-bridge command: settings from file, env and flags; SIGINT/SIGTERM
// close cleanly (retained `offline`, no will). Forked, it reports
// `{ type: 'ready', healthPort }` over IPC.
import { createBridge } from './bridge.js';
import { ConfigError, helpText, loadConfig } from './config.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    return;
  }
  let config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SyntaxError) {
      console.error(`sitehub-bridge: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const bridge = createBridge(config);
  await bridge.start();
  process.send?.({ type: 'ready', healthPort: bridge.healthPort });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    bridge.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
