// The built-in server of the browser client bundle: the files that
// @sitehub/device-client's build writes to its dist/browser/, read once,
// compressed once per encoding (brotli or gzip, whichever the browser
// prefers) at first use, served with an ETag so browsers revalidate cheaply. Until the bundle is built every bundle URL answers a 404 that says
// how to build it, rather than the engine's generic error.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { ClientBundleHandler } from './serve-client.js';

/** One bundle file ready to serve. */
interface BundleFile {
  body: Buffer;
  gzipped: Buffer | undefined;
  brotli: Buffer | undefined;
  etag: string;
  contentType: string;
}

/** Options of the built-in bundle handler. */
export interface ClientBundleFilesOptions {
  /** Directory holding the bundle files. Default: @sitehub/device-client's dist/browser. */
  dir?: string;
  /** `Cache-Control` of every answer. Default 'public, max-age=0, must-revalidate' (file names are not versioned). */
  cacheControl?: string;
}

const NOT_BUILT = 'The sitehub browser client is not built; run `npm run build` at the repository root.\n';

/** Where @sitehub/device-client's bundle lives, or undefined when the package cannot be found. */
export function defaultBundleDir(): string | undefined {
  try {
    // Resolved through the package's exports, as any consumer of the package would.
    const entry = createRequire(import.meta.url).resolve('@sitehub/device-client/browser/socket.io.js');
    return dirname(entry);
  } catch {
    return undefined;
  }
}

function contentTypeOf(file: string): string {
  return file.endsWith('.map') ? 'application/json; charset=utf-8' : 'application/javascript; charset=utf-8';
}

/**
 * The encoding to answer with for an Accept-Encoding header: `br` or `gzip`,
 * the one with the highest q, the first listed on a tie (as socket.io picks);
 * `*` stands for gzip. Undefined for identity.
 */
export function preferredEncoding(header: string | string[] | undefined): 'br' | 'gzip' | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  let best: 'br' | 'gzip' | undefined;
  let bestQ = 0;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const [rawCoding = '', ...params] = part.trim().toLowerCase().split(';');
    const coding = rawCoding.trim();
    const encoding = coding === 'br' ? 'br' : coding === 'gzip' || coding === '*' ? 'gzip' : undefined;
    // The first mention of a coding counts (`gzip;q=0, *` still refuses gzip).
    if (encoding === undefined || seen.has(encoding)) continue;
    seen.add(encoding);
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (weight > bestQ) {
      best = encoding;
      bestQ = weight;
    }
  }
  return best;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** A handler that serves the bundle files from disk (see ClientBundleFilesOptions). */
export function createClientBundleFiles(opts: ClientBundleFilesOptions = {}): ClientBundleHandler {
  const cacheControl = opts.cacheControl ?? 'public, max-age=0, must-revalidate';
  // Only successful loads are kept: a bundle built after the hub started is picked up.
  const loaded = new Map<string, Promise<BundleFile>>();

  const load = (file: string): Promise<BundleFile> => {
    let pending = loaded.get(file);
    if (!pending) {
      const dir = opts.dir ?? defaultBundleDir();
      pending = dir === undefined ? Promise.reject(Object.assign(new Error('no bundle'), { code: 'ENOENT' })) : readBundleFile(dir, file);
      loaded.set(file, pending);
      pending.catch(() => loaded.delete(file));
    }
    return pending;
  };

  return (req, res, file) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    load(file).then(
      (bundle) => send(req, res, bundle, cacheControl),
      (err: NodeJS.ErrnoException) => sendError(res, err.code === 'ENOENT' ? 404 : 500, err.code === 'ENOENT' ? NOT_BUILT : 'Could not read the client bundle.\n'),
    );
    return true;
  };
}

async function readBundleFile(dir: string, file: string): Promise<BundleFile> {
  const body = await readFile(join(dir, file));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, gzipped: undefined, brotli: undefined, etag, contentType: contentTypeOf(file) };
}

function send(req: IncomingMessage, res: ServerResponse, bundle: BundleFile, cacheControl: string): void {
  res.setHeader('ETag', bundle.etag);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('Vary', 'Accept-Encoding');
  if (matchesEtag(req.headers['if-none-match'], bundle.etag)) {
    res.writeHead(304);
    res.end();
    return;
  }
  let body = bundle.body;
  // Compressed once per encoding, on the first request that can take it.
  const encoding = preferredEncoding(req.headers['accept-encoding']);
  if (encoding === 'br') {
    bundle.brotli ??= brotliCompressSync(bundle.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bundle.body.byteLength } });
    body = bundle.brotli;
    res.setHeader('Content-Encoding', 'br');
  } else if (encoding === 'gzip') {
    bundle.gzipped ??= gzipSync(bundle.body, { level: 9 });
    body = bundle.gzipped;
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.setHeader('Content-Type', bundle.contentType);
  res.setHeader('Content-Length', body.byteLength);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(message) });
  res.end(message);
}
