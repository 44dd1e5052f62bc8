#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the locked
// dependencies when node_modules is missing or older than the lockfile, then
// runs the build: the incremental TypeScript build (a no-op when nothing
// changed) and the browser client bundle.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { installFailureMessage } from './toolchain.mjs';

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
    // The usual cause on a fresh machine: no prebuilt binary of a native module
    // for this Node and platform, and no toolchain to build one.
    console.error('\n' + installFailureMessage());
    process.exit(1);
  }
}
run('npm run build --silent');

