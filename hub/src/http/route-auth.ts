// Who may call each REST route, decided after routing from the route's own
// declaration (`config.auth`), never from the raw URL: the router decodes
// `/%61pi/...` and absolute-form targets, so any check on req.url can be
// walked around. A route that declares nothing cannot be registered, and if
// one ever were, its requests are refused (fail closed twice).
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AuthGuard, Gate } from '../iot/auth-guard.js';
import type { LabelledCounter } from '../iot/metrics.js';
import { cookieOriginAllowed, type AllowedOrigins } from '../iot/origin-policy.js';
import { hasRole, type Principal } from '../iot/people.js';
import type { Role } from '../iot/store/types.js';
import type { HttpDeps } from './deps.js';

/** Who may call a route: anyone, or a credential (admin token, personal token, console session) of at least this role. */
export type RouteAuth = 'public' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must say. */
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** Set by the route check on authenticated requests. */
    principal?: Principal;
  }
}

/** Route config of a route anyone may call. */
export const PUBLIC = { auth: 'public' } as const;
/** Route config of a route that reads: every role (a site-scoped one sees only its sites). */
export const VIEWER = { auth: 'viewer' } as const;
/** Route config of a route that acts on devices and alarms: operators and admins. */
export const OPERATOR = { auth: 'operator' } as const;
/** Route config of a route that changes the registry, rules or people: admins only. */
export const ADMIN = { auth: 'admin' } as const;

const DECLARED = new Set<string>(['public', 'viewer', 'operator', 'admin']);

/** Methods that change nothing; a cookie request of any other method must name its origin. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235). Anything else yields undefined. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.length > 4096) return undefined;
  const match = /^bearer[ \t]+(.*)$/is.exec(header);
  const token = match?.[1]!.trim();
  return token ? token : undefined;
}

/** Whether a request carrying the session cookie may use it (same origin or an allowed one). */
export function cookieRequestAllowed(req: FastifyRequest, allowed: AllowedOrigins): boolean {
  return cookieOriginAllowed(req.headers, allowed, !SAFE_METHODS.has(req.method));
}

/** The 429 a throttled or banned address gets: it says to wait, not which part was wrong. */
export function tooManyFailures(reply: FastifyReply, gate: Exclude<Gate, 'open'>, guard: AuthGuard): FastifyReply {
  const seconds = Math.max(1, Math.ceil((gate === 'banned' ? guard.banMs : guard.throttleIntervalMs) / 1000));
  return reply.code(429).header('retry-after', String(seconds)).send({ error: 'too many failed authentications, retry later', code: 'too_many_failures' });
}

function unauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'missing or invalid credentials', code: 'unauthorized' });
}

/**
 * Installs the per-route check on `app`: call before any route is added.
 * `refused` counts REST refusals by reason: `missing_credentials`, `invalid_credentials`, `throttled`, `banned`, `cross_origin`, `undeclared`.
 */
export function installRouteAuth(app: FastifyInstance, deps: () => HttpDeps, refused: LabelledCounter): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const auth = route.config?.auth;
    if (auth === undefined || !DECLARED.has(auth)) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare who may call it (config.auth: 'public', 'viewer', 'operator' or 'admin')`);
    }
  });

  let allowed: AllowedOrigins | undefined;
  app.addHook('onRequest', async (req, reply) => {
    // The not-found handler answers no data; everything the router matched declares its caller.
    if (req.is404) return;
    const auth = req.routeOptions.config.auth;
    if (auth === 'public') return;
    if (auth === undefined || !DECLARED.has(auth)) {
      refused.inc('undeclared');
      return unauthorized(reply);
    }
    const d = deps();
    const guard = d.services.authGuard;
    const header = req.headers.authorization;
    let principal: Principal | undefined;
    if (header !== undefined) {
      // A presented Authorization header decides alone: a wrong one is a failed guess even if a cookie rides along.
      const ticket = guard.admit({ kind: 'admin', address: req.ip });
      if (ticket.gate !== 'open') {
        refused.inc(ticket.gate);
        return tooManyFailures(reply, ticket.gate, guard);
      }
      try {
        principal = await d.services.people.fromBearer(bearerToken(header));
      } catch (err) {
        guard.abandon(ticket);
        throw err;
      }
      if (!principal) {
        guard.failure(ticket);
        refused.inc('invalid_credentials');
        return unauthorized(reply);
      }
      guard.success(ticket);
    } else {
      const session = await d.services.consoleSessions.fromCookieHeader(req.headers.cookie);
      if (!session) {
        refused.inc('missing_credentials');
        return unauthorized(reply);
      }
      allowed ??= new Set(d.services.ctx.config.allowedOrigins);
      if (!cookieRequestAllowed(req, allowed)) {
        refused.inc('cross_origin');
        return reply.code(403).send({ error: 'the session cookie is not accepted from this origin', code: 'cross_origin' });
      }
      principal = await d.services.people.fromSession(session);
      if (!principal) {
        refused.inc('invalid_credentials');
        return unauthorized(reply);
      }
    }
    // Set before the role check, so that a refused attempt is audited under its name too.
    req.principal = principal;
    if (!hasRole(principal, auth as Role)) {
      refused.inc('forbidden_role');
      return reply.code(403).send({ error: `this needs the ${auth} role; you are ${principal.role}`, code: 'forbidden' });
    }
  });
}
