#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the locked
// dependencies when node_modules is missing or older than the lockfile, then
// runs the build: the incremental TypeScript build (a no-op when nothing
// changed) and the browser client bundle.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { delimiter, dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });

const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.log('[sitehub] installing dependencies (npm ci)…');
  try {
    run('npm ci');
  } catch {
    explainInstallFailure();
    process.exit(1);
  }
}
run('npm run build --silent');

/**
 * The usual reason `npm ci` fails on a fresh machine: better-sqlite3 (and,
 * rarely, serialport) found no prebuilt binary for this Node version and
 * platform, or could not download it, and building from source needs a
 * toolchain that is not installed. Names what is missing instead of leaving
 * the reader with node-gyp's log.
 */
function explainInstallFailure() {
  const onPath = (bin) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, bin)));
  const tools = [
    ['python3', ['python3']],
    ['make', ['make']],
    ['a C++ compiler (g++ or clang++)', ['g++', 'c++', 'clang++']],
  ];
  const missing = tools.filter(([, bins]) => !bins.some(onPath)).map(([name]) => name);
  const where = `Node ${process.version} on ${process.platform}-${process.arch}`;
  console.error(`\n[sitehub] npm ci failed.`);
  if (missing.length > 0) {
    console.error(
      `[sitehub] The native modules (better-sqlite3, serialport) use a prebuilt binary when one exists for ${where} and can be downloaded;\n` +
        `[sitehub] otherwise npm builds them from source, which needs python3, make and a C++ compiler. Missing here: ${missing.join(', ')}.\n` +
        `[sitehub] On Debian, Ubuntu or Raspberry Pi OS: sudo apt-get install python3 make g++   then run this command again.`,
    );
  } else {
    console.error(`[sitehub] python3, make and a C++ compiler are all on PATH; see npm's log above for the cause.`);
  }
}
