// Runs an official conformance suite (fetched by you, never committed)
// against sitehub. Usage:
//   npm run conformance -- engine.io <path to docs/engine.io-protocol/v4-test-suite>
//   npm run conformance -- socket.io <path to docs/socket.io-protocol/v5-test-suite>
//   npm run conformance -- upstream <path to a socketio/socket.io snapshot> [--reference] [suite…]
//     (socket.io's own unit tests, see upstream.mjs)
// The protocol suites target http://localhost:3000, so that port must be free.
import { spawn, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const servers = {
  'engine.io': new URL('./engine-echo-server.mjs', import.meta.url).pathname,
  'socket.io': new URL('./socketio-server.mjs', import.meta.url).pathname,
};

if (process.argv[2] === 'upstream') {
  process.argv.splice(2, 1);
  await import('./upstream.mjs'); // exits with the suites' outcome
}

const [which, suiteArg] = process.argv.slice(2);
if (!servers[which] || !suiteArg) {
  console.error('usage: npm run conformance -- engine.io|socket.io <suite folder> | upstream <monorepo snapshot>');
  process.exit(2);
}
const suite = resolve(suiteArg);
if (!existsSync(join(suite, 'test-suite.js'))) {
  console.error(`${suite} has no test-suite.js; see docs/protocol-compatibility.md for how to get the suite`);
  process.exit(2);
}
if (!existsSync(join(suite, 'node_modules'))) execSync('npm ci', { cwd: suite, stdio: 'inherit' });

const server = spawn(process.execPath, [servers[which], '3000'], { stdio: 'inherit' });
await sleep(800);
const mocha = spawn('npx', ['mocha', 'test-suite.js'], { cwd: suite, stdio: 'inherit' });
const code = await new Promise((r) => mocha.on('exit', r));
server.kill('SIGTERM');
process.exit(code ?? 1);
