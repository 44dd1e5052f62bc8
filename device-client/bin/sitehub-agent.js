#!/usr/bin/env node
// The `sitehub-agent` command. npm links a package's commands when it installs it, and
// only if the file exists then: this committed file is what it links, and it
// loads the build (dist/), which in a clone appears only after `npm run build`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('sitehub-agent: device-client/dist/main.js is missing; run `npm run build` at the root of the repository first.');
  process.exit(1);
}
await import(main.href);
