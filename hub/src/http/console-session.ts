// Web console sign-in: the admin token, or an account's name and password,
// is exchanged once for an httpOnly, SameSite=Strict session cookie, which
// then authenticates /api requests and the /console namespace. The browser
// never keeps the token or the password. Each sign-in is audited.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CONSOLE_SESSION_COOKIE, type ConsoleSession } from '../iot/console-sessions.js';
import { ACCOUNT_NAME_SOURCE } from '../iot/people.js';
import { PASSWORD_MAX } from '../iot/passwords.js';
import { tokenMatches } from '../iot/tokens.js';
import type { HttpDeps } from './deps.js';
import { cookieOriginAllowed } from '../iot/origin-policy.js';
import { PUBLIC, tooManyFailures } from './route-auth.js';

/** Longest token accepted by the sign-in route. */
const MAX_TOKEN_LENGTH = 512;

// Signing in and out are judged like safe requests: a page of another origin names itself (browsers send
// Origin on every POST and DELETE) and is refused; a client without Origin is no browser, so no forgery.
function fromAllowedOrigin(req: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  return cookieOriginAllowed(req.headers, allowed, false);
}

/** The live console session of a request, if its cookie names one and it comes from an allowed origin. */
export async function consoleSessionOf(req: FastifyRequest, deps: HttpDeps, allowed: ReadonlySet<string>): Promise<ConsoleSession | undefined> {
  if (!fromAllowedOrigin(req, allowed)) return undefined;
  return deps.services.consoleSessions.fromCookieHeader(req.headers.cookie);
}

function cookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${CONSOLE_SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/** POST /auth/session { token } or { name, password } signs in; GET answers whether the cookie is live; DELETE signs out. Public routes: each checks its caller itself. */
export function consoleSessionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const sessions = deps.services.consoleSessions;
  const guard = deps.services.authGuard;
  const allowed = new Set(deps.services.ctx.config.allowedOrigins);
  app.post(
    '/auth/session',
    {
      config: PUBLIC,
      schema: {
        body: {
          type: 'object',
          properties: {
            token: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH },
            name: { type: 'string', pattern: ACCOUNT_NAME_SOURCE },
            password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
          },
          oneOf: [{ required: ['token'] }, { required: ['name', 'password'] }],
          additionalProperties: false,
        },
      },
      // Before the body is read: a cross-origin or banned sign-in costs the hub no parsing.
      onRequest: async (req, reply) => {
        // A page of another origin must not sign the browser in (login CSRF): same rule as for using the cookie.
        if (!fromAllowedOrigin(req, allowed)) {
          deps.services.metrics.refusedConnections.inc('console_sign_in|cross_origin');
          return reply.code(403).send({ error: 'cross-origin sign-in refused', code: 'cross_origin' });
        }
        if (guard.refuseIfBanned({ kind: 'admin', address: req.ip })) {
          deps.services.metrics.refusedConnections.inc('console_sign_in|banned');
          return tooManyFailures(reply, 'banned', guard);
        }
      },
    },
    async (req, reply) => {
      // Admission and check in one tick: parallel sign-ins cannot all pass the throttle before the first failure is counted.
      const ticket = guard.admit({ kind: 'admin', address: req.ip });
      if (ticket.gate !== 'open') {
        deps.services.metrics.refusedConnections.inc(`console_sign_in|${ticket.gate}`);
        return tooManyFailures(reply, ticket.gate, guard);
      }
      const body = req.body as { token?: string; name?: string; password?: string };
      // null: the admin token; undefined: wrong credentials.
      let accountId: string | null | undefined;
      let who: string;
      try {
        if (body.token !== undefined) {
          who = 'admin';
          accountId = tokenMatches(body.token, deps.adminTokenHash) ? null : undefined;
        } else {
          who = body.name!;
          const account = await deps.services.people.checkPassword(body.name!, body.password!);
          accountId = account?.id;
        }
      } catch (err) {
        guard.abandon(ticket);
        throw err;
      }
      const audit = (outcome: string) => deps.services.people.audit({ actor: who, action: 'sign_in', target: 'console', outcome, address: req.ip });
      if (accountId === undefined) {
        guard.failure(ticket);
        audit('invalid_credentials');
        deps.services.metrics.refusedConnections.inc('console_sign_in|invalid_credentials');
        return reply.code(401).send({ error: body.token !== undefined ? 'wrong admin token' : 'wrong name or password', code: 'invalid_credentials' });
      }
      guard.success(ticket);
      audit('ok');
      const id = await sessions.create(accountId);
      return reply
        .header('set-cookie', cookie(req, id, Math.floor(sessions.ttlMs / 1000)))
        .header('cache-control', 'no-store')
        .send({ ok: true, expiresInMs: sessions.ttlMs });
    },
  );
  // "Am I signed in?" has two normal answers, so both are 200: a 401 here
  // was logged as an error in the browser's console on every visit.
  app.get('/auth/session', { config: PUBLIC }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const session = await consoleSessionOf(req, deps, allowed);
    const principal = session && (await deps.services.people.fromSession(session));
    if (!principal) return { signedIn: false };
    return { signedIn: true, name: principal.name, role: principal.role, sites: principal.sites };
  });
  app.delete('/auth/session', { config: PUBLIC }, async (req, reply) => {
    const session = await consoleSessionOf(req, deps, allowed);
    if (session) await sessions.end(session.id);
    return reply.header('set-cookie', cookie(req, '', 0)).header('cache-control', 'no-store').send({ ok: true });
  });
}
