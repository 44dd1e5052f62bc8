// REST routes for twins: read a device's twin, merge desired properties into
// it (optionally based on a version, 409 when it moved on), read its history.
import type { FastifyInstance } from 'fastify';
import { TwinError } from '../iot/twins.js';
import type { HttpDeps } from './deps.js';
import { OPERATOR, VIEWER } from './route-auth.js';
import { errorResponses, idParam, listOf } from './schemas.js';

const doc = { type: 'object', additionalProperties: true } as const;

/** A twin as the API returns it. */
export const twinSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    desired: doc,
    desiredVersion: { type: 'integer' },
    reported: doc,
    reportedVersion: { type: 'integer' },
    appliedVersion: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
  required: ['deviceId', 'desired', 'desiredVersion', 'reported', 'reportedVersion', 'appliedVersion', 'updatedAt'],
} as const;

const changeSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    side: { type: 'string', enum: ['desired', 'reported'] },
    version: { type: 'integer' },
    patch: doc,
    source: { type: 'string' },
    ts: { type: 'integer' },
  },
} as const;

const conflictSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' }, twin: twinSchema },
  required: ['error', 'code'],
} as const;

/** /api/devices/:deviceId/twin… */
export function twinRoutes(app: FastifyInstance, { services }: HttpDeps): void {
  const { twins } = services;

  app.get('/api/devices/:deviceId/twin', {
    config: VIEWER,
    schema: { tags: ['twins'], summary: "Get a device's twin: desired and reported documents with their versions", params: idParam('deviceId'), response: { 200: twinSchema, ...errorResponses } },
    handler: async (req) => twins.get((req.params as { deviceId: string }).deviceId),
  });

  app.patch('/api/devices/:deviceId/twin', {
    config: OPERATOR,
    schema: {
      tags: ['twins'],
      summary: 'Merge desired properties (JSON merge patch; null deletes); with version, refused with 409 unless desired is still at that version',
      params: idParam('deviceId'),
      body: {
        type: 'object',
        properties: { desired: doc, version: { type: 'integer', minimum: 0 } },
        required: ['desired'],
        additionalProperties: false,
      },
      response: { 200: twinSchema, ...errorResponses, 409: conflictSchema },
    },
    handler: async (req, reply) => {
      const { desired, version } = req.body as { desired: Record<string, unknown>; version?: number };
      try {
        return await twins.setDesired((req.params as { deviceId: string }).deviceId, desired, version, 'api');
      } catch (err) {
        if (err instanceof TwinError && err.twin) return reply.code(409).send({ error: err.message, code: err.code, twin: err.twin });
        throw err;
      }
    },
  });

  app.get('/api/devices/:deviceId/twin/history', {
    config: VIEWER,
    schema: {
      tags: ['twins'],
      summary: "A twin's accepted changes, newest first",
      params: idParam('deviceId'),
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }, additionalProperties: false },
      response: { 200: listOf(changeSchema), ...errorResponses },
    },
    handler: async (req) => ({ items: await twins.history((req.params as { deviceId: string }).deviceId, (req.query as { limit: number }).limit) }),
  });
}
