// The client must run in browsers. No browser is installed on the build
// machines, so this checks the two things that break a browser build: the
// bundle (no `ws`, no Node built-ins), and running a bundle that cannot see
// `process` or `Buffer` (replaced by undefined at build time, as a browser
// has neither) on browser-standard globals only: fetch, the global WebSocket
// (Node's own, behind --experimental-websocket), atob/btoa.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let bundleText: string;
let inputs: string[];

function bundle(define: Record<string, string> = {}) {
  return build({
    entryPoints: [join(root, 'device-client/src/client/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    alias: { '@sitehub/protocol': join(root, 'protocol/src/index.ts') },
    define,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sitehub-browser-'));
  const plain = await bundle();
  bundleText = plain.outputFiles[0]!.text;
  inputs = Object.keys(plain.metafile.inputs);
  const blind = await bundle({
    process: 'undefined',
    Buffer: 'undefined',
    'globalThis.process': 'undefined',
    'globalThis.Buffer': 'undefined',
  });
  await writeFile(join(dir, 'client.mjs'), blind.outputFiles[0]!.text);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Runs in the child: connects with the bundle and reports what it saw.
const RUNNER = `
const proc = globalThis.process;
const [bundle, url] = proc.argv.slice(2);
const report = (o) => { proc.stdout.write(JSON.stringify(o) + '\\n'); proc.exit(0); };
setTimeout(() => report({ error: 'timed out' }), 8000);
const describe = (x) => ({ arrayBuffer: x instanceof ArrayBuffer, bytes: [...new Uint8Array(x)] });
try {
  const { io } = await import(bundle);
  const exchange = async (opts) => {
    const socket = io(url, { forceNew: true, reconnection: false, ...opts });
    const [first] = await new Promise((resolve) => socket.once('bin', (...a) => resolve(a)));
    const reply = await socket.emitWithAck('echo', { nested: [new Uint8Array([7, 8, 9])] });
    return { socket, received: describe(first.data), echoed: describe(reply.nested[0]) };
  };
  const polling = await exchange({ transports: ['polling'] });
  const websocket = await exchange({ transports: ['websocket'] });
  const upgrading = await exchange({});
  for (let i = 0; i < 300 && upgrading.socket.io.engine.transport.name !== 'websocket'; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  report({
    polling: { transport: polling.socket.io.engine.transport.name, received: polling.received, echoed: polling.echoed },
    websocket: { transport: websocket.socket.io.engine.transport.name, received: websocket.received, echoed: websocket.echoed },
    upgraded: upgrading.socket.io.engine.transport.name,
  });
} catch (err) {
  report({ error: String(err && err.stack || err) });
}
`;

describe('browser build', () => {
  it('bundles without ws and without Node built-ins', () => {
    expect(inputs.some((p) => p.includes('node_modules/ws/'))).toBe(false);
    expect(inputs.some((p) => p.startsWith('node:'))).toBe(false);
    expect(bundleText).not.toMatch(/from\s*["'](node:|ws["'])/);
    expect(bundleText).not.toMatch(/require\(["']/);
  });

  it('runs with only browser globals: fetch polling, the global WebSocket, the upgrade, binary as ArrayBuffer', async () => {
    const server = await startServer();
    server.io.on('connection', (s) => {
      s.emit('bin', { data: Buffer.from([1, 2, 3]) });
      s.on('echo', (payload: unknown, ack: (x: unknown) => void) => ack(payload));
    });
    await writeFile(join(dir, 'runner.mjs'), RUNNER);
    const child = spawn(
      process.execPath,
      ['--experimental-websocket', '--no-warnings', join(dir, 'runner.mjs'), join(dir, 'client.mjs'), server.url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    await new Promise((resolve) => child.on('exit', resolve));
    const result = JSON.parse(stdout.trim().split('\n').pop() || `{"error":${JSON.stringify(stderr)}}`);
    expect(result.error).toBeUndefined();
    const asArrayBuffer = (bytes: number[]) => ({ arrayBuffer: true, bytes });
    for (const transport of ['polling', 'websocket']) {
      expect(result[transport]).toEqual({
        transport,
        received: asArrayBuffer([1, 2, 3]),
        echoed: asArrayBuffer([7, 8, 9]),
      });
    }
    expect(result.upgraded).toBe('websocket');
  });
});
