// Runs socket.io's own unit tests (from a local snapshot of the
// socketio/socket.io monorepo, never committed) against sitehub, without
// editing a test: the suite is copied to a scratch folder inside
// node_modules/.cache (ignored by git, and where the repository's
// devDependencies such as socket.io-client, socket.io-client-v2 and
// socket.io-adapter resolve), the package it imports as `..` is replaced by a
// shim that exports sitehub's Server, and mocha runs it with tsx as upstream
// does, without --bail, so that every test is counted.
//
// Usage: npm run conformance -- upstream <path to the monorepo snapshot> [socket.io]
//
// Implemented: packages/socket.io/test against `Server` (uWebSockets.js tests
// skipped). Not yet: packages/engine.io/test and packages/socket.io-client/test.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cache = join(root, 'node_modules', '.cache');
const depsDir = join(cache, 'sitehub-upstream-deps');
// What upstream's package.json runs the suites with; pinned here, installed once into the cache.
const RUNNER_DEPS = ['mocha@10', 'tsx@4', 'expect.js@0.3.1', 'supertest@6'];

const SUITES = {
  'socket.io': {
    dir: 'packages/socket.io',
    entry: 'test/index.ts',
    // Tests of uWebSockets.js (a native server sitehub does not embed) are skipped.
    skip: ['./uws'],
    shim: `// sitehub in place of socket.io (written by test/conformance/upstream.mjs)
const hub = require(${JSON.stringify(join(root, 'hub', 'dist', 'realtime', 'index.js'))});
module.exports = hub;
`,
  },
};

const [monorepoArg, ...names] = process.argv.slice(2);
if (!monorepoArg) {
  console.error('usage: npm run conformance -- upstream <path to a socketio/socket.io snapshot> [socket.io]');
  process.exit(2);
}
const monorepo = resolve(monorepoArg);
const wanted = names.length ? names : Object.keys(SUITES);

if (!existsSync(join(depsDir, 'node_modules', 'mocha'))) {
  mkdirSync(depsDir, { recursive: true });
  writeFileSync(join(depsDir, 'package.json'), JSON.stringify({ name: 'sitehub-upstream-deps', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', ...RUNNER_DEPS], { cwd: depsDir, stdio: 'inherit' });
}

const results = [];
for (const name of wanted) {
  const suite = SUITES[name];
  if (!suite) {
    console.error(`unknown suite ${name} (known: ${Object.keys(SUITES).join(', ')})`);
    process.exit(2);
  }
  const source = join(monorepo, suite.dir);
  if (!existsSync(join(source, suite.entry))) {
    console.error(`${source} has no ${suite.entry}`);
    process.exit(2);
  }
  const scratch = mkdtempSync(join(cache, `sitehub-upstream-${name}-`));
  try {
    // The package the tests import as `..`: sitehub behind upstream's name and version.
    const upstreamPackage = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: upstreamPackage.name, version: upstreamPackage.version, main: 'index.js' }));
    writeFileSync(join(scratch, 'index.js'), suite.shim);
    mkdirSync(join(scratch, 'lib'));
    writeFileSync(join(scratch, 'lib', 'index.js'), "module.exports = require('..');\n");
    writeFileSync(join(scratch, 'lib', 'typed-events.js'), 'module.exports = {};\n');
    cpSync(join(source, 'test'), join(scratch, 'test'), { recursive: true });
    // The entry requires each test file; skipped ones are left out of it, not edited.
    const entry = join(scratch, suite.entry);
    let text = readFileSync(entry, 'utf8');
    for (const skipped of suite.skip) text = text.replace(`require("${skipped}");`, `// skipped by sitehub: require("${skipped}");`);
    writeFileSync(entry, text);
    const outcome = await runMocha(scratch, suite.entry);
    results.push({ name, ...outcome });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

console.log('\nupstream suites against sitehub:');
for (const r of results) console.log(`  ${r.name}: ${r.passing} passing, ${r.failing} failing, ${r.pending} pending`);
process.exit(results.every((r) => r.failing === 0) ? 0 : 1);

function runMocha(cwd, entry) {
  return new Promise((done) => {
    const mocha = join(depsDir, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const tsx = join(depsDir, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const child = spawn(
      process.execPath,
      [mocha, `--import=${tsx}`, '--reporter', 'spec', '--timeout', '10000', '--exit', entry],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'inherit'],
        // sitehub's build is ESM; upstream's tests are compiled to CommonJS and require it.
        env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-require-module --no-warnings`, NODE_PATH: join(depsDir, 'node_modules') },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('exit', () => {
      const count = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(out)?.[1] ?? 0);
      done({ passing: count('passing'), failing: count('failing'), pending: count('pending') });
    });
  });
}
