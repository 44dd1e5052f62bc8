// The hub serves the browser client bundle next to its Socket.IO path, as
// socket.io does: content types, ETag revalidation, brotli and gzip, CORS
// headers, and a clear 404 while the bundle is not built.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setClientBundleHandler } from '@sitehub/hub';
import { createClientBundleFiles, preferredEncoding } from '../../hub/src/realtime/client-bundle-files.js';
import { browserDist, buildBundles, closeHubs, rawGet, startHub } from './helpers.js';

const FILES = [
  ['socket.io.js', 'application/javascript; charset=utf-8'],
  ['socket.io.js.map', 'application/json; charset=utf-8'],
  ['socket.io.min.js', 'application/javascript; charset=utf-8'],
  ['socket.io.min.js.map', 'application/json; charset=utf-8'],
  ['socket.io.esm.min.js', 'application/javascript; charset=utf-8'],
  ['socket.io.esm.min.js.map', 'application/json; charset=utf-8'],
] as const;

let emptyDir: string;

beforeAll(async () => {
  // Where `npm run build` puts it, which is where the hub looks by default.
  await buildBundles();
  emptyDir = await mkdtemp(join(tmpdir(), 'sitehub-no-bundle-'));
});

afterEach(async () => {
  setClientBundleHandler(undefined);
  await closeHubs();
});

afterAll(async () => {
  await rm(emptyDir, { recursive: true, force: true });
});

describe('serving the client bundle', () => {
  it.each(FILES)('serves %s with its content type, an ETag and Cache-Control', async (file, type) => {
    const hub = await startHub();
    const res = await rawGet(`${hub.url}/socket.io/${file}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{10,}"$/);
    expect(res.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    expect(res.headers['vary']).toBe('Accept-Encoding');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(res.body.byteLength);
    expect(res.body.equals(await readFile(join(browserDist, file)))).toBe(true);
  });

  it('defines the global io in the script bundle and exports io from the ES module', async () => {
    const hub = await startHub();
    const iife = (await rawGet(`${hub.url}/socket.io/socket.io.min.js`)).body.toString();
    const esm = (await rawGet(`${hub.url}/socket.io/socket.io.esm.min.js`)).body.toString();
    // Only the ends: a failure should not print the whole bundle.
    expect(iife.slice(-300)).toMatch(/globalThis\.io=\w+;?\}\)\(\);\s*\/\/# sourceMappingURL=socket\.io\.min\.js\.map\s*$/);
    expect(esm.slice(-300)).toMatch(/export\{[^}]*\bas io\b[^}]*\};?\s*\/\/# sourceMappingURL=socket\.io\.esm\.min\.js\.map\s*$/);
  });

  it('answers 304 to a matching If-None-Match, 200 to a stale one', async () => {
    const hub = await startHub();
    const url = `${hub.url}/socket.io/socket.io.min.js`;
    const first = await rawGet(url);
    const etag = first.headers['etag']!;
    const again = await rawGet(url, { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body.byteLength).toBe(0);
    expect(again.headers['etag']).toBe(etag);
    expect((await rawGet(url, { 'If-None-Match': `"stale", W/${etag}` })).status).toBe(304);
    expect((await rawGet(url, { 'If-None-Match': '"stale"' })).status).toBe(200);
  });

  it('sends brotli or gzip, whichever Accept-Encoding prefers, identity otherwise', async () => {
    const hub = await startHub();
    const url = `${hub.url}/socket.io/socket.io.js`;
    const plain = await readFile(join(browserDist, 'socket.io.js'));
    const decode = { br: brotliDecompressSync, gzip: gunzipSync };
    for (const [accept, encoding] of [
      ['gzip', 'gzip'],
      ['gzip,br,deflate', 'gzip'],
      ['br', 'br'],
      ['br, gzip;q=0.5', 'br'],
      ['gzip;q=0.5, br', 'br'],
      ['deflate, *', 'gzip'],
    ] as const) {
      const res = await rawGet(url, { 'Accept-Encoding': accept });
      expect(res.headers['content-encoding'], accept).toBe(encoding);
      expect(res.headers['vary']).toBe('Accept-Encoding');
      expect(Number(res.headers['content-length'])).toBe(res.body.byteLength);
      expect(res.body.byteLength).toBeLessThan(plain.byteLength / 2);
      expect(decode[encoding](res.body).equals(plain)).toBe(true);
    }
    for (const accept of ['identity', 'gzip;q=0', 'br;q=0, gzip;q=0', 'deflate']) {
      const res = await rawGet(url, { 'Accept-Encoding': accept });
      expect(res.headers['content-encoding'], accept).toBeUndefined();
      expect(res.body.equals(plain)).toBe(true);
    }
  });

  it('adds the Server\'s CORS headers to the bundle', async () => {
    const hub = await startHub({ cors: { origin: 'https://good-origin.example' } });
    const res = await rawGet(`${hub.url}/socket.io/socket.io.js`, { Origin: 'https://good-origin.example' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://good-origin.example');
    const without = await startHub();
    const plain = await rawGet(`${without.url}/socket.io/socket.io.js`, { Origin: 'https://good-origin.example' });
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers HEAD with the headers only', async () => {
    const hub = await startHub();
    const res = await rawGet(`${hub.url}/socket.io/socket.io.min.js`, {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(1000);
    expect(res.body.byteLength).toBe(0);
  });

  it('follows the Server path option', async () => {
    const hub = await startHub({ path: '/rt' });
    expect((await rawGet(`${hub.url}/rt/socket.io.min.js`)).status).toBe(200);
    expect((await rawGet(`${hub.url}/socket.io/socket.io.min.js`)).status).toBe(404);
  });

  it('serves nothing with serveClient off', async () => {
    const hub = await startHub({ serveClient: false });
    // Everything under the path is the engine's, as in engine.io: an unknown file is a bad Engine.IO request.
    expect((await rawGet(`${hub.url}/socket.io/socket.io.js`)).status).toBe(400);
  });

  it('answers a clear 404 while the bundle is not built', async () => {
    setClientBundleHandler(createClientBundleFiles({ dir: emptyDir }));
    const hub = await startHub();
    const res = await rawGet(`${hub.url}/socket.io/socket.io.js`);
    expect(res.status).toBe(404);
    expect(res.body.toString()).toMatch(/not built; run `npm run build`/);
    // The engine still works next to it.
    const handshake = await rawGet(`${hub.url}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    expect(handshake.body.toString()).toMatch(/^0\{"sid"/);
  });

  it('reads Accept-Encoding as RFC 9110 does', () => {
    expect(preferredEncoding(undefined)).toBeUndefined();
    expect(preferredEncoding('')).toBeUndefined();
    expect(preferredEncoding('GZIP')).toBe('gzip');
    expect(preferredEncoding('gzip;q=0.0')).toBeUndefined();
    expect(preferredEncoding('deflate, gzip ; q=0.1')).toBe('gzip');
    expect(preferredEncoding('gzip;q=0.1, br;q=0.2')).toBe('br');
    expect(preferredEncoding('gzip;q=0, *')).toBeUndefined();
  });
});
