// REST routes for sites, device classes and bridge tokens.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { CLASS_SOURCE } from '@sitehub/protocol/iot';
import { ADMIN, VIEWER } from './route-auth.js';
import { seesSite } from '../iot/people.js';

/** A class's metadata: a small object; `units` maps metric names to unit labels. */
const classMeta = {
  type: 'object',
  maxProperties: 32,
  properties: { units: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 16 } } },
  additionalProperties: true,
} as const;
import { bridgeTokenSchema, classSchema, errorResponses, idParam, listOf, siteSchema } from './schemas.js';

const metaSchema = { type: 'object', additionalProperties: true, maxProperties: 64 } as const;

/** /api/sites, /api/classes, /api/bridge-tokens. */
export function registryRoutes(app: FastifyInstance, { services }: HttpDeps): void {
  const { registry, ctx } = services;

  app.post('/api/sites', {

    config: ADMIN,
    schema: {
      tags: ['sites'],
      summary: 'Create a site',
      body: {
        type: 'object',
        properties: { id: { type: 'string', maxLength: 64 }, name: { type: 'string', maxLength: 200 }, meta: metaSchema },
        required: ['id'],
        additionalProperties: false,
      },
      response: { 201: siteSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await registry.createSite(req.body as { id: string })),
  });
  app.get('/api/sites', {
    config: VIEWER,
    schema: { tags: ['sites'], summary: 'List sites', response: { 200: listOf(siteSchema), ...errorResponses } },
    handler: async (req) => ({ items: (await ctx.store.registry.listSites()).filter((site) => !req.principal || seesSite(req.principal, site.id)) }),
  });
  app.get('/api/sites/:siteId', {
    config: VIEWER,
    schema: { tags: ['sites'], summary: 'Get a site', params: idParam('siteId'), response: { 200: siteSchema, ...errorResponses } },
    handler: async (req) => registry.getSite((req.params as { siteId: string }).siteId),
  });
  app.patch('/api/sites/:siteId', {
    config: ADMIN,
    schema: {
      tags: ['sites'],
      summary: 'Update a site',
      params: idParam('siteId'),
      body: { type: 'object', properties: { name: { type: 'string', maxLength: 200 }, meta: metaSchema }, additionalProperties: false },
      response: { 200: siteSchema, ...errorResponses },
    },
    handler: async (req) => registry.updateSite((req.params as { siteId: string }).siteId, req.body as object),
  });

  app.post('/api/classes', {

    config: ADMIN,
    schema: {
      tags: ['classes'],
      summary: 'Create a device class (devices of it connect to /devices/<id>)',
      body: {
        type: 'object',
        properties: { id: { type: 'string', pattern: CLASS_SOURCE }, name: { type: 'string', maxLength: 200 }, description: { type: 'string', maxLength: 2000 }, meta: classMeta },
        required: ['id'],
        additionalProperties: false,
      },
      response: { 201: classSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await registry.createClass(req.body as { id: string })),
  });
  app.get('/api/classes', {
    config: VIEWER,
    schema: { tags: ['classes'], summary: 'List device classes', response: { 200: listOf(classSchema), ...errorResponses } },
    handler: async () => ({ items: await ctx.store.registry.listClasses() }),
  });
  app.get('/api/classes/:classId', {
    config: VIEWER,
    schema: { tags: ['classes'], summary: 'Get a device class', params: idParam('classId'), response: { 200: classSchema, ...errorResponses } },
    handler: async (req) => registry.getClass((req.params as { classId: string }).classId),
  });

  app.patch('/api/classes/:classId', {
    config: ADMIN,
    schema: {
      tags: ['classes'],
      summary: "Change a class's name, description or metadata (meta.units: metric -> unit, shown on the console's charts)",
      params: idParam('classId'),
      body: {
        type: 'object',
        properties: { name: { type: 'string', maxLength: 200 }, description: { type: 'string', maxLength: 2000 }, meta: classMeta },
        additionalProperties: false,
      },
      response: { 200: classSchema, ...errorResponses },
    },
    handler: async (req) => registry.updateClass((req.params as { classId: string }).classId, req.body as object),
  });

  app.post('/api/bridge-tokens', {

    config: ADMIN,
    schema: {
      tags: ['bridge tokens'],
      summary: 'Create a bridge token (shown once)',
      body: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['name'], additionalProperties: false },
      response: {
        201: { type: 'object', properties: { bridgeToken: bridgeTokenSchema, token: { type: 'string' } }, required: ['bridgeToken', 'token'] },
        ...errorResponses,
      },
    },
    handler: async (req, reply) => reply.code(201).send(await registry.createBridgeToken((req.body as { name: string }).name)),
  });
  app.get('/api/bridge-tokens', {
    config: ADMIN,
    schema: { tags: ['bridge tokens'], summary: 'List bridge tokens', response: { 200: listOf(bridgeTokenSchema), ...errorResponses } },
    handler: async () => ({ items: await ctx.store.registry.listBridgeTokens() }),
  });
  app.delete('/api/bridge-tokens/:tokenId', {
    config: ADMIN,
    schema: { tags: ['bridge tokens'], summary: 'Disable a bridge token and end its sessions', params: idParam('tokenId'), response: { 204: { type: 'null' }, ...errorResponses } },
    handler: async (req, reply) => {
      await registry.disableBridgeToken((req.params as { tokenId: string }).tokenId);
      return reply.code(204).send();
    },
  });
}
