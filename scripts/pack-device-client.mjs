#!/usr/bin/env node
// `npm run pack:device-client [-- <out dir>]`: one tarball of the client
// (`io()`) and the `sitehub-agent` command, to install without the repository:
//
//   npm install -g ./sitehub-device-client-<version>.tgz    # the agent on a device
//   npm install ./sitehub-device-client-<version>.tgz       # the client in a project
//
// The package is @sitehub/device-client as `npm pack` makes it, with
// @sitehub/protocol bundled inside: the protocol is not on the public registry,
// and npm must not look a @sitehub name up there (a 404 today, someone else's
// package tomorrow). Its other dependencies come from the registry (or npm's
// cache, with `--prefer-offline`), like those of any package.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'packs'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

for (const built of ['protocol/dist/index.js', 'device-client/dist/main.js']) {
  if (!existsSync(join(root, built))) {
    console.error(`pack-device-client: ${built} is missing; run \`npm run build\` first.`);
    process.exit(2);
  }
}

const staging = mkdtempSync(join(tmpdir(), 'sitehub-pack-device-client-'));
try {
  // The protocol exactly as npm would publish it, unpacked where the agent's package will bundle it.
  const protocolTgz = execFileSync(npm, ['pack', '--silent', '--pack-destination', staging], { cwd: join(root, 'protocol'), encoding: 'utf8' }).trim().split('\n').pop();
  const pkgDir = join(staging, 'package');
  const bundled = join(pkgDir, 'node_modules', '@sitehub', 'protocol');
  mkdirSync(bundled, { recursive: true });
  execFileSync('tar', ['xzf', join(staging, protocolTgz), '-C', bundled, '--strip-components=1']);

  const source = join(root, 'device-client');
  const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  for (const entry of pkg.files) cpSync(join(source, entry), join(pkgDir, entry), { recursive: true });
  delete pkg.devDependencies;
  delete pkg.scripts;
  pkg.bundleDependencies = ['@sitehub/protocol'];
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');

  mkdirSync(out, { recursive: true });
  const name = execFileSync(npm, ['pack', '--silent', '--pack-destination', out], { cwd: pkgDir, encoding: 'utf8' }).trim().split('\n').pop();
  console.log(join(out, name));
} finally {
  rmSync(staging, { recursive: true, force: true });
}

