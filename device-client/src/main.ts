#!/usr/bin/env node
// The `sitehub-agent` command: reads a JSON configuration, runs the agent,
// stops cleanly on SIGINT/SIGTERM (the outbox makes a hard kill safe too).
import { parseArgs } from 'node:util';
import { Agent, AGENT_VERSION } from './agent.js';
import { ConfigError, loadConfig } from './config.js';

const USAGE = `usage: sitehub-agent --config agent.json [--simulate]

  --config <file>   JSON configuration (hub, sources, batch, outbox; see docs/raspberry-pi.md)
  --simulate        add synthetic sensors (no hardware needed); serial sources become optional
  --version         print the version and exit
  --help            this text

Logs are JSON lines (pino) on stdout. Exit codes: 0 stopped, 2 bad arguments or configuration.`;

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string' }, simulate: { type: 'boolean' }, version: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`sitehub-agent: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) return void process.stdout.write(USAGE + '\n');
  if (args.version) return void process.stdout.write(AGENT_VERSION + '\n');
  if (!args.config) {
    process.stderr.write(`sitehub-agent: --config is required\n\n${USAGE}\n`);
    process.exit(2);
  }
  let config;
  try {
    config = loadConfig(args.config, { simulate: args.simulate });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sitehub-agent: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let agent: Agent;
  try {
    agent = new Agent(config);
  } catch (err) {
    process.stderr.write(`sitehub-agent: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  agent.start();
  process.send?.({ type: 'ready', pid: process.pid });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    agent.log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    void agent.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('disconnect', () => undefined);
}

main();
