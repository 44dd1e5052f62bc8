// REST routes for devices: register, list, get, update, disable/enable,
// rotate token, presence history.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { ADMIN, VIEWER } from './route-auth.js';
import { scopedDevices } from './site-scope.js';
import { deviceSchema, deviceWithTokenSchema, errorResponses, idParam, listOf } from './schemas.js';

const presenceSchema = {
  type: 'object',
  properties: { deviceId: { type: 'string' }, online: { type: 'boolean' }, ts: { type: 'integer' }, reason: { type: 'string' }, transport: { type: 'string' } },
  required: ['deviceId', 'online', 'ts', 'reason', 'transport'],
} as const;

type DeviceParams = { deviceId: string };

/** /api/devices… */
export function deviceRoutes(app: FastifyInstance, { services, store }: HttpDeps): void {
  const { registry } = services;

  app.post('/api/devices', {

    config: ADMIN,
    schema: {
      tags: ['devices'],
      summary: 'Register a device; the answer carries its token, shown this once',
      body: {
        type: 'object',
        properties: {
          id: { type: 'string', maxLength: 64 },
          classId: { type: 'string', maxLength: 32 },
          siteId: { type: 'string', maxLength: 64 },
          name: { type: 'string', maxLength: 200 },
          meta: { type: 'object', additionalProperties: true, maxProperties: 64 },
        },
        required: ['classId', 'siteId'],
        additionalProperties: false,
      },
      response: { 201: deviceWithTokenSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await registry.registerDevice(req.body as { classId: string; siteId: string })),
  });

  app.get('/api/devices', {

    config: VIEWER,
    schema: {
      tags: ['devices'],
      summary: 'List devices, filtered by site, class, online or disabled',
      querystring: {
        type: 'object',
        properties: {
          siteId: { type: 'string' },
          classId: { type: 'string' },
          online: { type: 'boolean' },
          disabled: { type: 'boolean' },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          offset: { type: 'integer', minimum: 0, default: 0 },
        },
        additionalProperties: false,
      },
      response: { 200: listOf(deviceSchema), ...errorResponses },
    },
    handler: async (req) => ({ items: await scopedDevices(store, req.principal, req.query as { limit: number; offset: number }) }),
  });

  app.get('/api/devices/:deviceId', {

    config: VIEWER,
    schema: { tags: ['devices'], summary: 'Get a device', params: idParam('deviceId'), response: { 200: deviceSchema, ...errorResponses } },
    handler: async (req) => registry.getDevice((req.params as DeviceParams).deviceId),
  });

  app.patch('/api/devices/:deviceId', {

    config: ADMIN,
    schema: {
      tags: ['devices'],
      summary: 'Update a device (name, site, meta, disabled); disabling or moving it ends its session',
      params: idParam('deviceId'),
      body: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 200 },
          siteId: { type: 'string', maxLength: 64 },
          meta: { type: 'object', additionalProperties: true, maxProperties: 64 },
          disabled: { type: 'boolean' },
        },
        additionalProperties: false,
      },
      response: { 200: deviceSchema, ...errorResponses },
    },
    handler: async (req) => registry.updateDevice((req.params as DeviceParams).deviceId, req.body as object),
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/api/devices/:deviceId/${action}`, {
      config: ADMIN,
      schema: { tags: ['devices'], summary: `${action[0]!.toUpperCase()}${action.slice(1)} a device`, params: idParam('deviceId'), response: { 200: deviceSchema, ...errorResponses } },
      handler: async (req) => registry.updateDevice((req.params as DeviceParams).deviceId, { disabled }),
    });
  }

  app.delete('/api/devices/:deviceId', {
    config: ADMIN,
    schema: {
      tags: ['devices'],
      summary: 'Delete a device: its session ends, its token stops working; its readings, events and alarms stay until retention prunes them',
      params: idParam('deviceId'),
      response: { 204: { type: 'null' }, ...errorResponses },
    },
    handler: async (req, reply) => {
      await registry.deleteDevice((req.params as DeviceParams).deviceId);
      return reply.code(204).send();
    },
  });

  app.post('/api/devices/:deviceId/rotate-token', {

    config: ADMIN,
    schema: {
      tags: ['devices'],
      summary: 'Issue a new token (shown once); the old one stops working and the live session ends',
      params: idParam('deviceId'),
      response: { 200: deviceWithTokenSchema, ...errorResponses },
    },
    handler: async (req) => registry.rotateToken((req.params as DeviceParams).deviceId),
  });

  app.get('/api/devices/:deviceId/presence', {

    config: VIEWER,
    schema: {
      tags: ['devices'],
      summary: 'Connect and disconnect history, newest first',
      params: idParam('deviceId'),
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: listOf(presenceSchema), ...errorResponses },
    },
    handler: async (req) => {
      const { deviceId } = req.params as DeviceParams;
      await registry.getDevice(deviceId);
      return { items: await store.presence.history(deviceId, (req.query as { limit: number }).limit) };
    },
  });
}
