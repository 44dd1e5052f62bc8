// Web console sign-in: the admin token is exchanged once for an httpOnly,
// SameSite=Strict session cookie, which then authenticates /api requests and
// the /console namespace. The browser never keeps the token.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CONSOLE_SESSION_COOKIE } from '../iot/console-sessions.js';
import { tokenMatches } from '../iot/tokens.js';
import type { HttpDeps } from './deps.js';

/** Longest token accepted by the sign-in route. */
const MAX_TOKEN_LENGTH = 512;

/** Whether a cross-site page sent this request (its Origin names another host). */
function crossOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** The live console session of a request, if its cookie names one and it comes from the console's own origin. */
export function consoleSessionOf(req: FastifyRequest, deps: HttpDeps): string | undefined {
  if (crossOrigin(req)) return undefined;
  return deps.services.consoleSessions.fromCookieHeader(req.headers.cookie);
}

function cookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${CONSOLE_SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/** POST /auth/session { token } signs in; GET answers whether the cookie is live; DELETE signs out. */
export function consoleSessionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const sessions = deps.services.consoleSessions;
  app.post(
    '/auth/session',
    {
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      if (crossOrigin(req)) return reply.code(403).send({ error: 'cross-origin sign-in refused', code: 'forbidden' });
      const { token } = req.body as { token: string };
      if (!tokenMatches(token, deps.adminTokenHash)) {
        deps.services.metrics.refusedConnections.inc('console_sign_in|invalid_credentials');
        return reply.code(401).send({ error: 'wrong admin token', code: 'invalid_credentials' });
      }
      const id = sessions.create();
      return reply
        .header('set-cookie', cookie(req, id, Math.floor(sessions.ttlMs / 1000)))
        .header('cache-control', 'no-store')
        .send({ ok: true, expiresInMs: sessions.ttlMs });
    },
  );
  // "Am I signed in?" has two normal answers, so both are 200: a 401 here
  // was logged as an error in the browser's console on every visit.
  app.get('/auth/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return { signedIn: consoleSessionOf(req, deps) !== undefined };
  });
  app.delete('/auth/session', async (req, reply) => {
    const id = consoleSessionOf(req, deps);
    if (id) sessions.end(id);
    return reply.header('set-cookie', cookie(req, '', 0)).header('cache-control', 'no-store').send({ ok: true });
  });
}
