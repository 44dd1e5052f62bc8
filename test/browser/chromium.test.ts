// The client bundle in a real browser: Debian's headless Chromium, driven by
// playwright-core, loads a page from a hub Server that serves the bundle at
// /socket.io/socket.io.js, connects, and exchanges events, acks and binary
// both ways, over WebSocket and over polling. The page reports what it saw;
// the server side records what it received.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setClientBundleHandler, type Server } from '@sitehub/hub';
import { createClientBundleFiles } from '../../hub/src/realtime/client-bundle-files.js';
import { buildBundles, closeHubs, startHub, type RunningHub } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Runs in the page. Connects with the given options and reports what it saw.
const PAGE_SCRIPT = `
window.exchange = async function exchange(opts, awaitUpgrade) {
  const seen = { errors: [] };
  const socket = io({ forceNew: true, reconnection: false, ...opts });
  const welcomed = new Promise((resolve) => {
    socket.once('welcome', (data, ack) => {
      seen.welcome = {
        text: data.text,
        isArrayBuffer: data.bytes instanceof ArrayBuffer,
        bytes: Array.from(new Uint8Array(data.bytes)),
      };
      ack({ got: seen.welcome.bytes.length, back: new Uint8Array([4, 5, 6]) });
      resolve();
    });
  });
  const run = (async () => {
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (err) => reject(new Error('connect_error: ' + err.message)));
    });
    seen.id = typeof socket.id === 'string' && socket.id.length > 0;
    seen.transportAtConnect = socket.io.engine.transport.name;
    await welcomed;
    const reply = await socket.timeout(5000).emitWithAck('echo', {
      u8: new Uint8Array([7, 8, 9]),
      ab: new Uint8Array([10, 11]).buffer,
      nested: { list: [1, 'two', null] },
    });
    seen.echo = {
      u8: { isArrayBuffer: reply.u8 instanceof ArrayBuffer, bytes: Array.from(new Uint8Array(reply.u8)) },
      ab: { isArrayBuffer: reply.ab instanceof ArrayBuffer, bytes: Array.from(new Uint8Array(reply.ab)) },
      nested: reply.nested,
      fromServer: Array.from(new Uint8Array(reply.fromServer)),
    };
    const pushed = new Promise((resolve) => socket.once('pushed', (n, bytes) => resolve({ n, bytes: Array.from(new Uint8Array(bytes)) })));
    socket.emit('push-me', 3);
    seen.pushed = await pushed;
    for (let i = 0; awaitUpgrade && i < 250 && socket.io.engine.transport.name !== 'websocket'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    seen.transportAtEnd = socket.io.engine.transport.name;
    const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
    socket.disconnect();
    seen.disconnectReason = await disconnected;
  })();
  const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('page timed out')), 10000));
  try {
    await Promise.race([run, deadline]);
  } catch (err) {
    seen.errors.push(String(err && err.message || err));
    socket.disconnect();
  }
  return seen;
};
window.globalShape = () => ({
  io: typeof io,
  connect: io.connect === io,
  Manager: typeof io.Manager,
  Socket: typeof io.Socket,
  protocol: io.protocol,
});
`;

/** A page loading one script-tag bundle: the readable one or the minified one. */
const pageLoading = (bundle: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>sitehub client</title>
<script src="/socket.io/${bundle}"></script>
<script>${PAGE_SCRIPT}</script>
</head><body>sitehub</body></html>`;
const PAGES: Record<string, string> = { '/': pageLoading('socket.io.js'), '/min': pageLoading('socket.io.min.js') };

const ESM_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>sitehub client (ESM)</title>
<script type="module">
import { io, protocol } from '/socket.io/socket.io.esm.min.js';
window.esmResult = new Promise((resolve) => {
  const socket = io({ forceNew: true, reconnection: false, transports: ['websocket'] });
  socket.once('connect_error', (err) => resolve({ error: err.message }));
  socket.once('connect', async () => {
    const reply = await socket.emitWithAck('echo', { u8: new Uint8Array([1, 2]), ab: new ArrayBuffer(1), nested: 'esm' });
    resolve({ protocol, transport: socket.io.engine.transport.name, nested: reply.nested, bytes: Array.from(new Uint8Array(reply.u8)) });
    socket.disconnect();
  });
});
</script></head><body>sitehub esm</body></html>`;

interface ServerRecord {
  transport?: string;
  welcomeAck?: { got: number; back: number[]; backIsBuffer: boolean };
  echo?: { u8: number[]; ab: number[]; binaryAreBuffers: boolean };
}

let browser: Browser | undefined;
let bundleDir: string;
const MISSING = `${CHROMIUM} is missing: install Debian's Chromium with \`apt-get install chromium\` (npm test does it when run as root)`;
const pageErrors: string[] = [];

beforeAll(async () => {
  // A missing browser fails every test (requireBrowser), it never skips them.
  if (!existsSync(CHROMIUM)) return;
  // A private build: other test files may rebuild the default dist/browser meanwhile.
  bundleDir = await mkdtemp(join(tmpdir(), 'sitehub-bundle-'));
  await buildBundles(bundleDir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
}, 60_000);

afterEach(async () => {
  setClientBundleHandler(undefined);
  await closeHubs();
});

afterAll(async () => {
  await browser?.close();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

/** A hub serving the bundle and the test pages, with the handlers the pages talk to. */
async function startPageHub(): Promise<{ hub: RunningHub; record: ServerRecord }> {
  setClientBundleHandler(createClientBundleFiles({ dir: bundleDir }));
  const hub = await startHub({}, (req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const body = req.url === '/esm' ? ESM_PAGE : PAGES[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body);
  });
  const record: ServerRecord = {};
  wire(hub.io, record);
  return { hub, record };
}

function wire(io: Server, record: ServerRecord): void {
  io.on('connection', (socket) => {
    record.transport = socket.conn.transport.name;
    socket.emit('welcome', { text: 'hello from the hub', bytes: Buffer.from([1, 2, 3]) }, (answer: { got: number; back: Buffer }) => {
      record.welcomeAck = { got: answer.got, back: [...answer.back], backIsBuffer: Buffer.isBuffer(answer.back) };
    });
    socket.on('echo', (payload: { u8: Buffer; ab: Buffer; nested: unknown }, ack: (reply: unknown) => void) => {
      record.echo = { u8: [...payload.u8], ab: [...payload.ab], binaryAreBuffers: Buffer.isBuffer(payload.u8) && Buffer.isBuffer(payload.ab) };
      ack({ ...payload, fromServer: new Uint8Array([200, 201]) });
    });
    socket.on('push-me', (n: number) => socket.emit('pushed', n * 2, Buffer.from([n])));
  });
}

function requireBrowser(): Browser {
  if (!browser) throw new Error(MISSING);
  return browser;
}

async function openPage(url: string): Promise<Page> {
  const page = await requireBrowser().newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  await page.goto(url, { timeout: 10_000 });
  return page;
}

describe('the client bundle in headless Chromium', () => {
  it('defines the global io like socket.io.js', async () => {
    requireBrowser();
    const { hub } = await startPageHub();
    const page = await openPage(hub.url + '/');
    try {
      expect(await page.evaluate('globalShape()')).toEqual({
        io: 'function',
        connect: true,
        Manager: 'function',
        Socket: 'function',
        protocol: 5,
      });
    } finally {
      await page.close();
    }
  });

  const TRANSPORT_CASES = [
    ['WebSocket', { transports: ['websocket'] }, 'websocket', 'websocket'],
    ['polling', { transports: ['polling'] }, 'polling', 'polling'],
    // The upgrade may finish before or after the page sees `connect`.
    ['polling upgraded to WebSocket', {}, undefined, 'websocket'],
  ] as const;
  // Each script-tag bundle: socket.io.js as esbuild writes it, socket.io.min.js after terser.
  const CASES = (['/', '/min'] as const).flatMap((path) =>
    TRANSPORT_CASES.map(([name, ...rest]) => [`${name} (${path === '/' ? 'socket.io.js' : 'socket.io.min.js'})`, path, ...rest] as const),
  );

  it.each(CASES)('exchanges events, acks and binary over %s', async (_name, path, opts, atConnect, atEnd) => {
    requireBrowser();
    pageErrors.length = 0;
    const { hub, record } = await startPageHub();
    const page = await openPage(hub.url + path);
    try {
      const awaitUpgrade = atEnd === 'websocket';
      const seen = (await page.evaluate(`exchange(${JSON.stringify(opts)}, ${awaitUpgrade})`)) as Record<string, unknown>;
      expect(seen.errors).toEqual([]);
      expect(seen.id).toBe(true);
      if (atConnect) expect(seen.transportAtConnect).toBe(atConnect);
      expect(seen.transportAtEnd).toBe(atEnd);
      expect(seen.welcome).toEqual({ text: 'hello from the hub', isArrayBuffer: true, bytes: [1, 2, 3] });
      expect(seen.echo).toEqual({
        u8: { isArrayBuffer: true, bytes: [7, 8, 9] },
        ab: { isArrayBuffer: true, bytes: [10, 11] },
        nested: { list: [1, 'two', null] },
        fromServer: [200, 201],
      });
      expect(seen.pushed).toEqual({ n: 6, bytes: [3] });
      expect(seen.disconnectReason).toBe('io client disconnect');
      // Every session opens with the first transport it is given.
      expect(record.transport).toBe('transports' in opts ? opts.transports[0] : 'polling');
      expect(record.welcomeAck).toEqual({ got: 3, back: [4, 5, 6], backIsBuffer: true });
      expect(record.echo).toEqual({ u8: [7, 8, 9], ab: [10, 11], binaryAreBuffers: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('the ES module bundle connects and exchanges binary', async () => {
    requireBrowser();
    pageErrors.length = 0;
    const { hub, record } = await startPageHub();
    const page = await openPage(hub.url + '/esm');
    try {
      expect(await page.evaluate('window.esmResult')).toEqual({ protocol: 5, transport: 'websocket', nested: 'esm', bytes: [1, 2] });
      expect(record.echo).toEqual({ u8: [1, 2], ab: [0], binaryAreBuffers: true });
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
