// The web console's static files (web-console/dist): read once into memory,
// served with content types and ETags; Vite's hashed assets are cached for a
// year, index.html is revalidated. Any other GET that asks for HTML gets
// index.html so that the console's client-side routes survive a reload.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PUBLIC } from './route-auth.js';

/** Where `npm run build` puts the console; the same relative path from hub/src/http and hub/dist/http. */
export const CONSOLE_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web-console', 'dist');

/** Largest console directory read into memory (files past it are not served). */
const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Paths that belong to the API and the hub, never to the console, in any spelling (case, dot segments, doubled slashes). */
const NOT_CONSOLE = /^\/(api|auth|socket\.io|metrics|healthz|readyz|openapi\.json)(\/|$)/i;

const CSP = "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

interface StaticFile {
  body: Buffer;
  etag: string;
  type: string;
  immutable: boolean;
}

function readTree(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let total = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && total + statSync(full).size <= MAX_TOTAL_BYTES) {
        const body = readFileSync(full);
        total += body.length;
        const urlPath = '/' + relative(dir, full).split(sep).join('/');
        files.set(urlPath, {
          body,
          etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
          type: CONTENT_TYPES[extname(full).toLowerCase()] ?? 'application/octet-stream',
          immutable: urlPath.startsWith('/assets/'),
        });
      }
    }
  };
  try {
    walk(dir);
  } catch {
    // Not built: the fallback page says how to build it.
  }
  return files;
}

const NOT_BUILT_PAGE = '<!doctype html><title>sitehub</title><p>The web console is not built: run <code>npm run build</code> at the repository root.</p>\n';

function send(req: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.header('etag', file.etag).header('content-type', file.type).header('x-content-type-options', 'nosniff');
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (file.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
  if (req.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}

/** Serves the console from `dir` (default: $SITEHUB_CONSOLE_DIR, else web-console/dist) at `/`. */
export function consoleStaticRoutes(app: FastifyInstance, dir: string = process.env.SITEHUB_CONSOLE_DIR || CONSOLE_DIST): void {
  let files: Map<string, StaticFile> | undefined;
  const load = () => (files ??= readTree(dir));
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    // The path the router matched (decoded, without scheme and host for absolute-form targets), with
    // dot segments and doubled slashes resolved, so that `/x/../api/…` is no console page either.
    const path = posix.normalize('/' + ((req.params as { '*'?: string })['*'] ?? ''));
    if (!NOT_CONSOLE.test(path)) {
      const tree = load();
      const file = tree.get(path === '/' ? '/index.html' : path);
      if (file) return send(req, reply, file);
      const wantsHtml = String(req.headers.accept ?? '').includes('text/html');
      if (wantsHtml && !extname(path)) {
        const index = tree.get('/index.html');
        if (index) return send(req, reply, index);
        return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      }
    }
    return reply.code(404).send({ error: `no route ${req.method} ${path}`, code: 'not_found' });
  };
  app.get('/', { config: PUBLIC }, handler);
  app.get('/*', { config: PUBLIC }, handler);
}
