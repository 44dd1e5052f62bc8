// REST routes for commands: create, get, list.
import type { FastifyInstance } from 'fastify';
import type { CommandStatus } from '../iot/store/types.js';
import type { HttpDeps } from './deps.js';
import { NAME_SOURCE } from '@sitehub/protocol/iot';
import { OPERATOR, VIEWER } from './route-auth.js';
import { seesSite } from '../iot/people.js';
import { commandSchema, commandStatuses, errorResponses, idParam, listOf } from './schemas.js';

/** /api/commands… */
export function commandRoutes(app: FastifyInstance, { services, store }: HttpDeps): void {
  const { commands } = services;

  app.post('/api/commands', {

    config: OPERATOR,
    schema: {
      tags: ['commands'],
      summary: 'Create a command; it is delivered now if the device is online, else when it connects (until ttlMs)',
      body: {
        type: 'object',
        properties: {
          deviceId: { type: 'string', maxLength: 64 },
          name: { type: 'string', pattern: NAME_SOURCE },
          params: {},
          ttlMs: { type: 'integer', minimum: 1 },
        },
        required: ['deviceId', 'name'],
        additionalProperties: false,
      },
      response: { 201: commandSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await commands.create(req.body as object, 'api')),
  });

  app.get('/api/commands/:commandId', {

    config: VIEWER,
    schema: {
      tags: ['commands'],
      summary: 'Get a command; with waitMs, waits up to that long for it to be acked, failed or expired',
      params: idParam('commandId'),
      querystring: { type: 'object', properties: { waitMs: { type: 'integer', minimum: 0, maximum: 60000 } }, additionalProperties: false },
      response: { 200: commandSchema, ...errorResponses },
    },
    handler: async (req) => {
      const { commandId } = req.params as { commandId: string };
      const { waitMs } = req.query as { waitMs?: number };
      return waitMs ? commands.waitForFinal(commandId, waitMs) : commands.get(commandId);
    },
  });

  app.get('/api/commands', {

    config: VIEWER,
    schema: {
      tags: ['commands'],
      summary: 'List commands, newest first',
      querystring: {
        type: 'object',
        properties: { deviceId: { type: 'string' }, status: { type: 'string', enum: commandStatuses }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        additionalProperties: false,
      },
      response: { 200: listOf(commandSchema), ...errorResponses },
    },
    handler: async (req) => {
      const items = await store.commands.list(req.query as { deviceId?: string; status?: CommandStatus; limit: number });
      const principal = req.principal;
      if (!principal || principal.sites === null) return { items };
      // A scoped person's list holds only its sites' devices (so it may be shorter than the limit).
      const sites = new Map<string, string | undefined>();
      for (const c of items) if (!sites.has(c.deviceId)) sites.set(c.deviceId, (await store.registry.getDevice(c.deviceId))?.siteId);
      return { items: items.filter((c) => { const site = sites.get(c.deviceId); return site !== undefined && seesSite(principal, site); }) };
    },
  });
}
