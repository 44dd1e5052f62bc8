// autoUnref with polling only: the client's pending poll must not keep the
// process alive (issue 15). A child process connects and must exit by itself
// while the server is still up.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startSitehubServer, type StartedServer } from '../helpers/hub-server.js';

let server: StartedServer | undefined;
// Inside node_modules (ignored by git) so that the bundle's `ws` import resolves.
const cache = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'sitehub-autounref-'));

afterEach(async () => {
  await server?.close();
  server = undefined;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = `
import { io } from './client.mjs';
const [url, transport] = process.argv.slice(2);
const socket = io(url, { transports: [transport], autoUnref: true, reconnection: false });
// Alive until connected; from then on only the client's own handles remain.
const keepAlive = setTimeout(() => {}, 10_000);
socket.on('connect', () => {
  console.log('connected');
  clearTimeout(keepAlive);
});
`;

async function runChild(url: string, transport: string): Promise<{ code: number | null; stdout: string; killed: boolean }> {
  const child = spawn(process.execPath, [join(dir, 'child.mjs'), url, transport], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  // Bounded: a client that keeps the process alive is killed, and the test fails.
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, 5000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, killed };
}

describe('autoUnref', () => {
  it('lets the process exit while connected, over polling only and over WebSocket', async () => {
    await build({
      entryPoints: [fileURLToPath(new URL('../../device-client/src/client/index.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'client.mjs'),
      external: ['ws'],
      logLevel: 'silent',
    });
    writeFileSync(join(dir, 'child.mjs'), CHILD);
    server = await startSitehubServer({ pingInterval: 60_000 });
    for (const transport of ['polling', 'websocket']) {
      const result = await runChild(server.url, transport);
      expect({ transport, ...result }).toEqual({ transport, code: 0, stdout: 'connected\n', killed: false });
    }
  });
});
