// REST routes for people: who am I, my personal tokens, accounts (admins),
// the audit log (admins); and the hook that writes every change made through
// the API to the audit log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACCOUNT_NAME_SOURCE, ADMIN_PRINCIPAL } from '../iot/people.js';
import { PASSWORD_MAX, PASSWORD_MIN } from '../iot/passwords.js';
import type { HttpDeps } from './deps.js';
import { ADMIN, VIEWER } from './route-auth.js';
import { errorResponses, idParam, listOf } from './schemas.js';

const roles = ['viewer', 'operator', 'admin'] as const;
const sitesSchema = { type: ['array', 'null'], items: { type: 'string', maxLength: 64 }, maxItems: 1000 } as const;

export const accountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: roles },
    sites: sitesSchema,
    disabled: { type: 'boolean' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
  required: ['id', 'name', 'role', 'sites', 'disabled', 'createdAt', 'updatedAt'],
} as const;

const apiTokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, accountId: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'integer' } },
  required: ['id', 'accountId', 'name', 'createdAt'],
} as const;

const auditSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ts: { type: 'integer' },
    actor: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    outcome: { type: 'string' },
    address: { type: 'string' },
  },
  required: ['id', 'ts', 'actor', 'action', 'target', 'outcome', 'address'],
} as const;

const password = { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX } as const;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Body fields named in the audit line's target (never a password or a token). */
const TARGET_FIELDS = ['id', 'deviceId', 'siteId', 'classId', 'name'] as const;

/** What a request acted on, for its audit line: the path's ids and the body's ids and name. */
function auditTarget(req: FastifyRequest): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries((req.params as Record<string, unknown>) ?? {})) parts.push(`${key}=${String(value)}`);
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const key of TARGET_FIELDS) if (typeof body[key] === 'string') parts.push(`${key}=${body[key] as string}`);
  }
  return parts.join(' ').slice(0, 500);
}

/** /api/me…, /api/accounts…, /api/audit, and the audit of every change. */
export function peopleRoutes(app: FastifyInstance, { services }: HttpDeps): void {
  const { people } = services;

  // Every authenticated change through the API, accepted or not, leaves a line (who, what, on what, outcome, from where).
  app.addHook('onResponse', async (req, reply) => {
    if (!req.principal || SAFE.has(req.method) || req.is404) return;
    people.audit({ actor: req.principal.name, action: `${req.method} ${req.routeOptions.url}`, target: auditTarget(req), outcome: String(reply.statusCode), address: req.ip });
  });

  app.get('/api/me', {
    config: VIEWER,
    schema: {
      tags: ['people'],
      summary: 'Who the credential stands for: name, role and sites (null: all)',
      response: {
        200: { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' }, sites: sitesSchema, accountId: { type: ['string', 'null'] } } },
        ...errorResponses,
      },
    },
    handler: async (req) => req.principal ?? ADMIN_PRINCIPAL,
  });

  app.get('/api/me/tokens', {
    config: VIEWER,
    schema: { tags: ['people'], summary: 'My personal API tokens (never the tokens themselves)', response: { 200: listOf(apiTokenSchema), ...errorResponses } },
    handler: async (req) => ({ items: await people.listTokens(req.principal!) }),
  });

  app.post('/api/me/tokens', {
    config: VIEWER,
    schema: {
      tags: ['people'],
      summary: 'Create a personal API token with my role and sites; the token is shown once',
      body: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['name'], additionalProperties: false },
      response: { 201: { type: 'object', properties: { apiToken: apiTokenSchema, token: { type: 'string' } }, required: ['apiToken', 'token'] }, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await people.createToken(req.principal!, (req.body as { name: string }).name)),
  });

  app.delete('/api/me/tokens/:tokenId', {
    config: VIEWER,
    schema: { tags: ['people'], summary: 'Delete one of my personal API tokens', params: idParam('tokenId'), response: { 204: { type: 'null' }, ...errorResponses } },
    handler: async (req, reply) => {
      await people.deleteToken(req.principal!, (req.params as { tokenId: string }).tokenId);
      return reply.code(204).send();
    },
  });

  app.get('/api/accounts', {
    config: ADMIN,
    schema: { tags: ['people'], summary: 'Every account', response: { 200: listOf(accountSchema), ...errorResponses } },
    handler: async () => ({ items: await people.listAccounts() }),
  });

  app.post('/api/accounts', {
    config: ADMIN,
    schema: {
      tags: ['people'],
      summary: 'Create an account (password hashed with scrypt; role viewer, operator or admin; sites null for all)',
      body: {
        type: 'object',
        properties: { name: { type: 'string', pattern: ACCOUNT_NAME_SOURCE }, password, role: { type: 'string', enum: roles }, sites: sitesSchema, disabled: { type: 'boolean' } },
        required: ['name', 'password'],
        additionalProperties: false,
      },
      response: { 201: accountSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await people.createAccount(req.body as object)),
  });

  app.get('/api/accounts/:accountId', {
    config: ADMIN,
    schema: { tags: ['people'], summary: 'One account', params: idParam('accountId'), response: { 200: accountSchema, ...errorResponses } },
    handler: async (req) => people.getAccount((req.params as { accountId: string }).accountId),
  });

  app.patch('/api/accounts/:accountId', {
    config: ADMIN,
    schema: {
      tags: ['people'],
      summary: "Change an account's password, role, sites or disabled flag; its console sessions end",
      params: idParam('accountId'),
      body: { type: 'object', properties: { password, role: { type: 'string', enum: roles }, sites: sitesSchema, disabled: { type: 'boolean' } }, additionalProperties: false },
      response: { 200: accountSchema, ...errorResponses },
    },
    handler: async (req) => people.updateAccount((req.params as { accountId: string }).accountId, req.body as object),
  });

  app.delete('/api/accounts/:accountId', {
    config: ADMIN,
    schema: { tags: ['people'], summary: 'Delete an account, its tokens and sessions', params: idParam('accountId'), response: { 204: { type: 'null' }, ...errorResponses } },
    handler: async (req, reply) => {
      await people.deleteAccount((req.params as { accountId: string }).accountId);
      return reply.code(204).send();
    },
  });

  app.get('/api/audit', {
    config: ADMIN,
    schema: {
      tags: ['people'],
      summary: 'The audit log, newest first: sign-ins, commands and every change through the API',
      querystring: {
        type: 'object',
        properties: {
          actor: { type: 'string', maxLength: 100 },
          from: { type: 'integer', minimum: 0 },
          to: { type: 'integer', minimum: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
        additionalProperties: false,
      },
      response: { 200: listOf(auditSchema), ...errorResponses },
    },
    handler: async (req) => ({ items: await people.listAudit(req.query as { limit: number }) }),
  });
}
