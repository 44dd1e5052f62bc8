// REST routes for what devices reported: telemetry (raw and bucketed), state
// (current and history), events.
import type { FastifyInstance } from 'fastify';
import { HubError } from '../iot/errors.js';
import type { HttpDeps } from './deps.js';
import { NAME_SOURCE } from '@sitehub/protocol/iot';
import { VIEWER } from './route-auth.js';
import { bucketSchema, errorResponses, eventSchema, idParam, listOf, readingSchema, stateSchema } from './schemas.js';

type DeviceParams = { deviceId: string };
/** Most buckets one aggregate query may produce, so a tiny interval over a long range cannot exhaust memory. */
const MAX_BUCKETS = 10_000;

const timeRange = {
  from: { type: 'integer', minimum: 0, description: 'ms since the epoch, inclusive (default 0)' },
  to: { type: 'integer', minimum: 0, description: 'ms since the epoch, inclusive (default now + 1 day)' },
} as const;

function range(q: { from?: number; to?: number }): { from: number; to: number } {
  const from = q.from ?? 0;
  const to = q.to ?? Date.now() + 86_400_000;
  if (to < from) throw new HubError('bad_request', '"to" is before "from"');
  return { from, to };
}

/** /api/devices/:deviceId/{telemetry,state,events} */
export function dataRoutes(app: FastifyInstance, { services, store }: HttpDeps): void {
  const { registry } = services;

  app.get('/api/devices/:deviceId/telemetry', {

    config: VIEWER,
    schema: {
      tags: ['telemetry'],
      summary: 'Readings in a time range (by ts), or after a seq (by seq), oldest first',
      params: idParam('deviceId'),
      querystring: {
        type: 'object',
        properties: { ...timeRange, afterSeq: { type: 'integer', minimum: -1 }, limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } },
        additionalProperties: false,
      },
      response: { 200: listOf(readingSchema), ...errorResponses },
    },
    handler: async (req) => {
      const { deviceId } = req.params as DeviceParams;
      const q = req.query as { from?: number; to?: number; afterSeq?: number; limit: number };
      await registry.getDevice(deviceId);
      return { items: await store.telemetry.query({ deviceId, ...range(q), ...(q.afterSeq !== undefined && { afterSeq: q.afterSeq }), limit: q.limit }) };
    },
  });

  app.get('/api/devices/:deviceId/telemetry/aggregate', {

    config: VIEWER,
    schema: {
      tags: ['telemetry'],
      summary: 'min/max/avg/count of one numeric metric per interval, for charts',
      params: idParam('deviceId'),
      querystring: {
        type: 'object',
        properties: {
          metric: { type: 'string', pattern: NAME_SOURCE },
          ...timeRange,
          interval: { type: 'integer', minimum: 1, description: 'bucket width in ms (buckets align on multiples of it)' },
        },
        required: ['metric', 'interval'],
        additionalProperties: false,
      },
      response: { 200: listOf(bucketSchema), ...errorResponses },
    },
    handler: async (req) => {
      const { deviceId } = req.params as DeviceParams;
      const q = req.query as { metric: string; from?: number; to?: number; interval: number };
      await registry.getDevice(deviceId);
      // Without "from", the last day: a chart's usual window, and a bounded number of buckets.
      const { from, to } = range({ to: q.to, from: q.from ?? (q.to ?? Date.now()) - 86_400_000 });
      if ((to - from) / q.interval > MAX_BUCKETS) throw new HubError('bad_request', `at most ${MAX_BUCKETS} buckets; widen the interval or narrow the range`);
      return { items: await store.telemetry.aggregate(deviceId, q.metric, from, to, q.interval) };
    },
  });

  app.get('/api/devices/:deviceId/state', {

    config: VIEWER,
    schema: { tags: ['state'], summary: "The device's current state", params: idParam('deviceId'), response: { 200: stateSchema, ...errorResponses } },
    handler: async (req) => {
      const { deviceId } = req.params as DeviceParams;
      await registry.getDevice(deviceId);
      return (await store.stateEvents.getState(deviceId)) ?? { deviceId, attrs: {}, ts: 0, updatedAt: 0 };
    },
  });

  app.get('/api/devices/:deviceId/state/history', {

    config: VIEWER,
    schema: {
      tags: ['state'],
      summary: 'State updates as reported, newest first',
      params: idParam('deviceId'),
      querystring: { type: 'object', properties: { ...timeRange, limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } }, additionalProperties: false },
      response: { 200: listOf({ type: 'object', properties: { deviceId: { type: 'string' }, ts: { type: 'integer' }, attrs: { type: 'object', additionalProperties: true } } }), ...errorResponses },
    },
    handler: async (req) => {
      const { deviceId } = req.params as DeviceParams;
      const q = req.query as { from?: number; to?: number; limit: number };
      await registry.getDevice(deviceId);
      const { from, to } = range(q);
      return { items: await store.stateEvents.stateHistory(deviceId, from, to, q.limit) };
    },
  });

  app.get('/api/devices/:deviceId/events', {

    config: VIEWER,
    schema: {
      tags: ['events'],
      summary: 'Alarms and logs, newest first',
      params: idParam('deviceId'),
      querystring: {
        type: 'object',
        properties: { ...timeRange, kind: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 } },
        additionalProperties: false,
      },
      response: { 200: listOf(eventSchema), ...errorResponses },
    },
    handler: async (req) => {
      const { deviceId } = req.params as DeviceParams;
      const q = req.query as { from?: number; to?: number; kind?: string; limit: number };
      await registry.getDevice(deviceId);
      const { from, to } = range(q);
      return { items: await store.stateEvents.listEvents(deviceId, from, to, q.kind, q.limit) };
    },
  });
}
