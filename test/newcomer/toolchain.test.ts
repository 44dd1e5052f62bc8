// `npm start` on a machine where a native module has to be built and the
// toolchain is missing: ensure-ready's `npm ci` fails, and the message names
// what is missing. Real npm, real node-gyp, on a one-module project whose
// PATH holds node and npm only.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { missingTools } from '../../scripts/toolchain.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sitehub-toolchain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('names the missing python3, make and C++ compiler when a native build fails', () => {
  const project = join(dir, 'project');
  mkdirSync(join(project, 'scripts'), { recursive: true });
  mkdirSync(join(project, 'native'), { recursive: true });
  for (const f of ['ensure-ready.mjs', 'toolchain.mjs']) copyFileSync(join(root, 'scripts', f), join(project, 'scripts', f));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'toolchain-check', private: true, type: 'module', dependencies: { native: 'file:native' } }));
  // A native module without a prebuilt binary: npm runs `node-gyp rebuild` for a binding.gyp.
  writeFileSync(join(project, 'native', 'package.json'), JSON.stringify({ name: 'native', version: '1.0.0', gypfile: true }));
  writeFileSync(join(project, 'native', 'binding.gyp'), JSON.stringify({ targets: [{ target_name: 'native', sources: ['native.cc'] }] }));
  writeFileSync(join(project, 'native', 'native.cc'), '#include <node_api.h>\n');
  const lock = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8' });
  expect(lock.status, lock.stderr).toBe(0);

  // PATH: node and npm, nothing to build with.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const npm = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(npm, join(bin, 'npm'));
  expect(missingTools(bin)).toEqual(['python3', 'make', 'a C++ compiler (g++ or clang++)']);

  // npm 11 runs a dependency's install script only when allowed.
  const start = spawnSync(process.execPath, [join(project, 'scripts', 'ensure-ready.mjs')], { cwd: project, encoding: 'utf8', env: { HOME: process.env.HOME!, PATH: bin, npm_config_allow_scripts: 'native' }, timeout: 120_000 });
  expect(start.status, start.stderr).toBe(1);
  expect(start.stderr).toContain('Missing here: python3, make, a C++ compiler (g++ or clang++).');
  expect(start.stderr).toContain('sudo apt-get install python3 make g++');

  // With the machine's own PATH the same tools are found (this machine builds better-sqlite3).
  expect(missingTools()).toEqual([]);
}, 150_000);
