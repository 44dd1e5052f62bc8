// Benchmark: what the client costs a device or a page. The gzip size of the
// minified browser bundle next to socket.io-client 4.8.4's socket.io.min.js,
// and the RSS of an idle Node process holding one connection with each client
// (each in a child process of its own, both connected to the same hub Server).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startServerProcess } from './lib/child.mjs';
import { fmt, printTable } from './lib/stats.mjs';
import { buildBrowserBundles, BROWSER_DIST } from '../../device-client/scripts/build-browser.mjs';

const CHILD = fileURLToPath(new URL('./client-footprint-child.mjs', import.meta.url));
/** The target of issue #4: our bundle at most two thirds of socket.io.min.js, gzipped. */
const BUNDLE_TARGET_RATIO = 2 / 3;

const gzipBytes = (buffer) => gzipSync(buffer, { level: 9 }).byteLength;

async function bundleSizes() {
  await buildBrowserBundles();
  const ours = await readFile(join(BROWSER_DIST, 'socket.io.min.js'));
  const oursEsm = await readFile(join(BROWSER_DIST, 'socket.io.esm.min.js'));
  const refDir = join(dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')), 'dist');
  const ref = await readFile(join(refDir, 'socket.io.min.js'));
  const refEsm = await readFile(join(refDir, 'socket.io.esm.min.js'));
  return [
    { name: 'sitehub socket.io.min.js', bytes: ours.byteLength, gzip: gzipBytes(ours) },
    { name: 'socket.io-client socket.io.min.js', bytes: ref.byteLength, gzip: gzipBytes(ref) },
    { name: 'sitehub socket.io.esm.min.js', bytes: oursEsm.byteLength, gzip: gzipBytes(oursEsm) },
    { name: 'socket.io-client socket.io.esm.min.js', bytes: refEsm.byteLength, gzip: gzipBytes(refEsm) },
  ];
}

async function idleRss(impl, url, transports) {
  const child = startServerProcess(CHILD, [impl, url, transports]);
  try {
    await child.ready;
    const stats = await child.request('stats', {}, 30_000);
    if (impl !== 'none' && !stats.connected) throw new Error(`${impl}: not connected`);
    return { impl, rss: stats.rss, transport: stats.transport, opened: transports.split(',')[0] };
  } finally {
    await child.stop();
  }
}

export async function run() {
  console.log('\n## Client footprint: browser bundle size, idle Node process with one connection\n');
  const sizes = await bundleSizes();
  printTable(
    ['bundle', 'bytes', 'gzip -9 bytes'],
    sizes.map((s) => [s.name, fmt(s.bytes, 0), fmt(s.gzip, 0)]),
  );
  const ratio = sizes[0].gzip / sizes[1].gzip;
  console.log(
    `\nratio sitehub/socket.io-client (min.js, gzip): ${fmt(ratio)}x — target <= ${fmt(BUNDLE_TARGET_RATIO)}x: ${ratio <= BUNDLE_TARGET_RATIO ? 'met' : 'MISSED'}`,
  );

  const { Server } = await import('@sitehub/hub');
  const httpServer = createServer();
  const io = new Server(httpServer);
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  const results = [];
  try {
    // One at a time: two children measured together would share the CPU and the page cache.
    // Opened with polling (the default, then upgraded) and with WebSocket only:
    // polling in Node loads an HTTP client (fetch for us, http for socket.io-client).
    for (const [impl, transports] of [
      ['none', 'polling,websocket'],
      ['sitehub', 'polling,websocket'],
      ['socket.io-client', 'polling,websocket'],
      ['sitehub', 'websocket'],
      ['socket.io-client', 'websocket'],
    ]) {
      results.push(await idleRss(impl, url, transports));
    }
  } finally {
    httpServer.closeAllConnections();
    await io.close(); // closes the http server too, as socket.io's does
  }
  const baseline = results[0].rss;
  console.log('');
  printTable(
    ['process', 'opened with', 'transport now', 'RSS', 'over a bare node process'],
    results.map((r) => [
      r.impl === 'none' ? 'bare node (no client)' : r.impl,
      r.impl === 'none' ? '-' : r.opened,
      r.transport,
      `${fmt(r.rss / 2 ** 20, 1)} MiB`,
      `${fmt((r.rss - baseline) / 2 ** 20, 1)} MiB`,
    ]),
  );
  console.log('');
  for (const [label, ours, ref] of [
    ['polling then upgrade', results[1], results[2]],
    ['WebSocket only', results[3], results[4]],
  ]) {
    console.log(
      `ratio sitehub/socket.io-client (${label}): RSS ${fmt(ours.rss / ref.rss)}x, RSS over bare node ${fmt((ours.rss - baseline) / (ref.rss - baseline))}x`,
    );
  }
  return { sizes, ratio, rss: results };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
