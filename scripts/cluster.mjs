#!/usr/bin/env node
// `npm run cluster`: Redis, PostgreSQL, three hub nodes and HAProxy on this
// machine, each on a free loopback port with its own temp folder; prints the
// console's address and the admin token; Ctrl-C stops everything cleanly.
// Flags: --nodes N (3), --port P (HAProxy's port; a free one by default).
import { startHubCluster } from '../test/helpers/hub-cluster.mjs';

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

const nodes = flag('nodes', 3);
console.log(`starting Redis, PostgreSQL, ${nodes} hub nodes and HAProxy...`);
const cluster = await startHubCluster({ nodes, haproxyPort: flag('port', undefined), logLevel: 'warn', quiet: false, detached: true });
console.log(`
sitehub cluster ready
  console and API (through HAProxy): ${cluster.url}/
  admin token:                       ${cluster.adminToken}
  nodes:                             ${cluster.nodes.map((n) => `${n.id} ${n.url}`).join(', ')}
  Redis:                             ${cluster.redis.url}
  PostgreSQL:                        ${cluster.databaseUrl}
  HAProxy configuration:             ${cluster.haproxy.config}
Point agents at ${cluster.url} (e.g. npm run demo -- --hub ${cluster.url}). Ctrl-C stops everything.
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping HAProxy, the hub nodes, Redis and PostgreSQL...');
  await cluster.stop();
  console.log('stopped');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
