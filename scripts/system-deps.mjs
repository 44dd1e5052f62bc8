#!/usr/bin/env node
// The tests use real system programs (serial ptys through socat, a Mosquitto
// broker, Redis, headless Chromium). This installs the missing ones with apt-get when
// running as root, and otherwise says clearly what is missing; tests that need
// a missing program fail with a message naming it.
import { execSync, spawnSync } from 'node:child_process';

/** Debian package -> a command it provides. Grows as parts need them. */
const needed = {
  chromium: 'chromium',
  socat: 'socat',
  mosquitto: 'mosquitto',
  'mosquitto-clients': 'mosquitto_sub',
  openssl: 'openssl',
  haproxy: 'haproxy',
  // PostgreSQL 15 (Debian 12's): the tests make throwaway clusters with its initdb and postgres.
  postgresql: '/usr/lib/postgresql/15/bin/initdb',
  // The backup command docs/scaling.md gives for SQLite, run by test/iot/store.test.ts.
  sqlite3: 'sqlite3',
  'redis-server': 'redis-server',
  // The docs' Python example (test/docs): python-socketio, with websocket-client for its WebSocket transport.
  'python3-socketio': 'python3:socketio',
  'python3-websocket': 'python3:websocket',
};

// Daemons such as mosquitto live in /usr/sbin, which a non-root PATH may lack.
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
/** A command on PATH, or `python3:<module>`: a module Debian's python3 imports. */
const has = (cmd) =>
  cmd.startsWith('python3:')
    ? spawnSync('/usr/bin/python3', ['-c', `import ${cmd.slice('python3:'.length)}`], { stdio: 'ignore' }).status === 0
    : spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env: { ...process.env, PATH } }).status === 0;
const missing = Object.entries(needed).filter(([, cmd]) => !has(cmd)).map(([pkg]) => pkg);

if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && has('apt-get')) {
  console.log(`[sitehub] installing system packages: ${missing.join(' ')}`);
  try {
    execSync('apt-get update -qq', { stdio: 'inherit' });
    execSync(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing.join(' ')}`, { stdio: 'inherit' });
    process.exit(0);
  } catch {
    console.error('[sitehub] apt-get failed; see above.');
  }
}
console.error(`[sitehub] missing system packages: ${missing.join(' ')}`);
console.error(`[sitehub] install them with: sudo apt-get install ${missing.join(' ')}`);
console.error('[sitehub] the tests that need them will fail until then.');
