// Runs socket.io's own unit tests (from a local snapshot of the
// socketio/socket.io monorepo, never committed) against sitehub, without
// editing a test: a suite is copied to a scratch folder inside
// node_modules/.cache (ignored by git, and where the repository's
// devDependencies such as socket.io, socket.io-client, socket.io-client-v2,
// engine.io-client and socket.io-adapter resolve), the package it imports as
// `..` is replaced by a shim that exports sitehub's implementation, and mocha
// runs it with tsx as upstream does, without --bail, so that every test is
// counted.
//
// Usage: npm run conformance -- upstream <path to the monorepo snapshot> [--reference] [socket.io] [engine.io] [engine.io-v3] [socket.io-client]
//
// --reference runs the same suites, the same way, against the reference
// packages installed as our devDependencies (socket.io, engine.io,
// socket.io-client from npm), for the reference column of the comparison.
//
// - socket.io: packages/socket.io/test against `@sitehub/hub/socket.io`
//   (`Server`, and the callable CommonJS export); uWebSockets.js tests skipped.
// - engine.io: packages/engine.io/test against `@sitehub/hub/engine.io`
//   (EngineServer behind engine.io's module API); WebTransport tests and the
//   test of engine.io's private v3 parser module skipped.
// - socket.io-client: packages/socket.io-client/test against
//   `@sitehub/device-client` (`io`, `Manager`, `Socket`), talking to
//   the suite's own socket.io server as upstream runs it; the test of the
//   client's private `url` module skipped.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cache = join(root, 'node_modules', '.cache');
const depsDir = join(cache, 'sitehub-upstream-deps');
// What upstream's package.json runs the suites with; pinned here, installed once into the cache.
const RUNNER_DEPS = {
  mocha: '10',
  tsx: '4',
  'expect.js': '0.3.1',
  supertest: '6',
  superagent: '9',
  'express-session': '1.18',
  helmet: '7',
  cookie: '0.7',
  '@sinonjs/fake-timers': '11',
  'has-cors': '1.1.0',
  'text-blob-builder': '0.0.1',
  'base64-arraybuffer': '1',
  'engine.io-client-v3': 'npm:engine.io-client@3.5',
};

// The package the tests import as `..`, required the way a user of it would:
// by name, resolved through its "exports" (the scratch folder sits inside
// our node_modules).
const shimOf = (name) => `// ${name} in place of the package under test (written by test/conformance/upstream.mjs)
module.exports = require(${JSON.stringify(name)});
`;

const SUITES = {
  'socket.io': {
    dir: 'packages/socket.io',
    run: ['test/index.ts'],
    // Each suite with the mocha options its package.json runs it with (the others use mocha's 2 s timeout).
    mochaArgs: ['--timeout', '10000'],
    // Tests of uWebSockets.js (a native server sitehub does not embed) are left out of the entry file.
    leaveOut: { 'test/index.ts': ['require("./uws");'] },
    entry: '@sitehub/hub/socket.io',
    reference: 'socket.io',
    files: {
      'lib/index.js': "module.exports = require('..');\n",
      'lib/typed-events.js': 'module.exports = {};\n',
    },
  },
  'engine.io': {
    dir: 'packages/engine.io',
    // mocha's default spec for this package, minus webtransport.mjs (no
    // WebTransport in sitehub) and parser.js (it tests engine.io's private
    // copy of the v3 parser, `build/parser-v3`, not the server).
    run: ['test/engine.io.js', 'test/middlewares.js', 'test/server.js'],
    entry: '@sitehub/hub/engine.io',
    reference: 'engine.io',
  },
  // The same suite with engine.io-client 3.x (Engine.IO v3, allowEIO3), as upstream's test:compat-v3 runs it.
  'engine.io-v3': {
    dir: 'packages/engine.io',
    run: ['test/engine.io.js', 'test/middlewares.js', 'test/server.js'],
    entry: '@sitehub/hub/engine.io',
    reference: 'engine.io',
    env: { EIO_CLIENT: '3' },
  },
  'socket.io-client': {
    dir: 'packages/socket.io-client',
    run: ['test/index.ts'],
    mochaArgs: ['--require', 'test/support/hooks.ts'],
    // Run in a mocha process of their own (and counted), because when they
    // fail they break the tests after them: the first installs a fake clock
    // and uninstalls it only if it passes (every later test then times out);
    // the second leaves an ack callback that fails inside the next test.
    isolate: ['should use native setTimeout with useNativeSetTimers', 'should preserve the order of the packets'],
    // url.ts tests the client's private `build/cjs/url` module.
    leaveOut: { 'test/index.ts': ['import "./url";'] },
    entry: '@sitehub/device-client',
    reference: 'socket.io-client',
  },
};

const args = process.argv.slice(2);
const againstReference = args.includes('--reference');
const [monorepoArg, ...names] = args.filter((a) => a !== '--reference');
if (!monorepoArg) {
  console.error('usage: npm run conformance -- upstream <path to a socketio/socket.io snapshot> [--reference] [socket.io] [engine.io] [engine.io-v3] [socket.io-client]');
  process.exit(2);
}
const monorepo = resolve(monorepoArg);
const wanted = names.length ? names : Object.keys(SUITES);

const missing = Object.entries(RUNNER_DEPS).filter(([name]) => !existsSync(join(depsDir, 'node_modules', name, 'package.json')));
if (missing.length) {
  mkdirSync(depsDir, { recursive: true });
  writeFileSync(join(depsDir, 'package.json'), JSON.stringify({ name: 'sitehub-upstream-deps', private: true }));
  // All of them: npm removes what the package.json it is given does not list.
  const specs = Object.entries(RUNNER_DEPS).map(([name, v]) => `${name}@${v}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', ...specs], { cwd: depsDir, stdio: 'inherit' });
}

const results = [];
for (const name of wanted) {
  const suite = SUITES[name];
  if (!suite) {
    console.error(`unknown suite ${name} (known: ${Object.keys(SUITES).join(', ')})`);
    process.exit(2);
  }
  const source = join(monorepo, suite.dir);
  if (!suite.run.every((file) => existsSync(join(source, file)))) {
    console.error(`${source} lacks one of ${suite.run.join(', ')}`);
    process.exit(2);
  }
  const scratch = mkdtempSync(join(cache, `sitehub-upstream-${name}-`));
  try {
    // The package the tests import as `..`: sitehub behind upstream's name and
    // version (the reference package with its own version: the served
    // bundle's ETag is that version).
    const upstreamPackage = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
    const version = againstReference ? installedVersion(suite.reference) : upstreamPackage.version;
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: upstreamPackage.name, version, main: 'index.js' }));
    writeFileSync(join(scratch, 'index.js'), shimOf(againstReference ? suite.reference : suite.entry));
    for (const [file, text] of Object.entries(suite.files ?? {})) {
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      writeFileSync(join(scratch, file), text);
    }
    cpSync(join(source, 'test'), join(scratch, 'test'), { recursive: true });
    // An entry file requires each test file; skipped ones are left out of it, not edited.
    for (const [file, lines] of Object.entries(suite.leaveOut ?? {})) {
      let text = readFileSync(join(scratch, file), 'utf8');
      for (const line of lines) text = text.replace(line, `// skipped by sitehub: ${line}`);
      writeFileSync(join(scratch, file), text);
    }
    const base = [...(suite.mochaArgs ?? []), ...suite.run];
    const isolated = (suite.isolate ?? []).map((title) => title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const outcome = await runMocha(scratch, isolated.length ? [...base, '--grep', isolated.join('|'), '--invert'] : base, suite.env);
    for (const pattern of isolated) {
      const alone = await runMocha(scratch, [...base, '--grep', pattern], suite.env);
      for (const key of Object.keys(outcome)) outcome[key] += alone[key];
    }
    results.push({ name, ...outcome });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

console.log(`\nupstream suites against ${againstReference ? 'the reference packages' : 'sitehub'}:`);
for (const r of results) console.log(`  ${r.name}: ${r.passing} passing, ${r.failing} failing, ${r.pending} pending`);
process.exit(results.every((r) => r.failing === 0) ? 0 : 1);

/** The version of an installed package, found from its entry (not every package exports its package.json). */
function installedVersion(name) {
  let dir = dirname(createRequire(join(root, 'package.json')).resolve(name));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json for ${name}`);
    dir = dirname(dir);
  }
}

function runMocha(cwd, args, extraEnv = {}) {
  return new Promise((done) => {
    const mocha = join(depsDir, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const tsx = join(depsDir, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const child = spawn(
      process.execPath,
      [mocha, `--import=${tsx}`, '--reporter', 'spec', '--exit', ...args],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'inherit'],
        // sitehub's build is ESM; upstream's tests are compiled to CommonJS and require it.
        env: { ...process.env, ...extraEnv, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-require-module --no-warnings`, NODE_PATH: join(depsDir, 'node_modules') },
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
