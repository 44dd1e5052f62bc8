// REST routes for alarms (list, one, acknowledge, clear) and alarm rules
// (list, create, get, change, delete).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ID_SOURCE } from '@sitehub/protocol/iot';
import { ruleInputProperties, ruleSchema, type RuleInput } from '../iot/rule-input.js';
import type { AlarmFilter } from '../iot/store/types.js';
import type { HttpDeps } from './deps.js';
import { ADMIN, OPERATOR, VIEWER } from './route-auth.js';
import { errorResponses, idParam, listOf } from './schemas.js';

export const alarmSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    deviceId: { type: 'string' },
    ruleId: { type: ['string', 'null'] },
    source: { type: 'string', enum: ['rule', 'device'] },
    kind: { type: 'string' },
    key: { type: 'string' },
    severity: { type: 'string' },
    message: { type: 'string' },
    value: {},
    state: { type: 'string', enum: ['active', 'acknowledged', 'cleared'] },
    ts: { type: 'integer' },
    ackedBy: { type: ['string', 'null'] },
    ackedAt: { type: ['integer', 'null'] },
    clearedBy: { type: ['string', 'null'] },
    clearedAt: { type: ['integer', 'null'] },
    updatedAt: { type: 'integer' },
  },
  required: ['id', 'deviceId', 'ruleId', 'source', 'kind', 'severity', 'message', 'state', 'ts', 'updatedAt'],
} as const;

const alarmIdParam = { type: 'object', properties: { alarmId: { type: 'integer', minimum: 1 } }, required: ['alarmId'] } as const;

/** Who is acting, for the alarm's and the audit's record. */
export function actorOf(req: FastifyRequest): string {
  return req.principal?.name ?? 'admin';
}

/** /api/alarms… and /api/rules… */
export function alarmRoutes(app: FastifyInstance, { services }: HttpDeps): void {
  const { alarms } = services;

  app.get('/api/alarms', {
    config: VIEWER,
    schema: {
      tags: ['alarms'],
      summary: 'Alarms raised by rules and by devices, newest first; `state=open` lists the active and acknowledged ones',
      querystring: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: ['active', 'acknowledged', 'cleared', 'open'] },
          deviceId: { type: 'string', pattern: ID_SOURCE },
          siteId: { type: 'string', pattern: ID_SOURCE },
          severity: { type: 'string', maxLength: 32 },
          ruleId: { type: 'string', maxLength: 64 },
          from: { type: 'integer', minimum: 0 },
          to: { type: 'integer', minimum: 0 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
        },
        additionalProperties: false,
      },
      response: { 200: listOf(alarmSchema), ...errorResponses },
    },
    handler: async (req) => {
      const filter = req.query as AlarmFilter;
      const sites = req.principal?.sites;
      return { items: await alarms.list({ ...filter, ...(sites && { sites }) }) };
    },
  });

  app.get('/api/alarms/:alarmId', {
    config: VIEWER,
    schema: { tags: ['alarms'], summary: 'One alarm', params: alarmIdParam, response: { 200: alarmSchema, ...errorResponses } },
    handler: async (req) => alarms.get((req.params as { alarmId: number }).alarmId),
  });

  app.post('/api/alarms/:alarmId/ack', {
    config: OPERATOR,
    schema: { tags: ['alarms'], summary: 'Acknowledge an active alarm (409 if it is not active)', params: alarmIdParam, response: { 200: alarmSchema, ...errorResponses } },
    handler: async (req) => alarms.acknowledge((req.params as { alarmId: number }).alarmId, actorOf(req)),
  });

  app.post('/api/alarms/:alarmId/clear', {
    config: OPERATOR,
    schema: { tags: ['alarms'], summary: 'Clear an active or acknowledged alarm (409 if already cleared)', params: alarmIdParam, response: { 200: alarmSchema, ...errorResponses } },
    handler: async (req) => alarms.clear((req.params as { alarmId: number }).alarmId, actorOf(req)),
  });

  app.get('/api/rules', {
    config: VIEWER,
    schema: { tags: ['alarms'], summary: 'Every alarm rule', response: { 200: listOf(ruleSchema), ...errorResponses } },
    handler: async () => ({ items: await alarms.listRules() }),
  });

  app.post('/api/rules', {
    config: ADMIN,
    schema: {
      tags: ['alarms'],
      summary: 'Create an alarm rule on a class, a site or a device',
      body: { type: 'object', properties: ruleInputProperties, required: ['name', 'scope', 'condition'], additionalProperties: false },
      response: { 201: ruleSchema, ...errorResponses },
    },
    handler: async (req, reply) => reply.code(201).send(await alarms.createRule(req.body as RuleInput)),
  });

  app.get('/api/rules/:ruleId', {
    config: VIEWER,
    schema: { tags: ['alarms'], summary: 'One alarm rule', params: idParam('ruleId'), response: { 200: ruleSchema, ...errorResponses } },
    handler: async (req) => alarms.getRule((req.params as { ruleId: string }).ruleId),
  });

  app.patch('/api/rules/:ruleId', {
    config: ADMIN,
    schema: {
      tags: ['alarms'],
      summary: 'Change an alarm rule; its evaluation starts over',
      params: idParam('ruleId'),
      body: { type: 'object', properties: ruleInputProperties, additionalProperties: false },
      response: { 200: ruleSchema, ...errorResponses },
    },
    handler: async (req) => alarms.updateRule((req.params as { ruleId: string }).ruleId, req.body as RuleInput),
  });

  app.delete('/api/rules/:ruleId', {
    config: ADMIN,
    schema: { tags: ['alarms'], summary: 'Delete an alarm rule (its open alarms stay until cleared)', params: idParam('ruleId'), response: { 204: { type: 'null' }, ...errorResponses } },
    handler: async (req, reply) => {
      await alarms.deleteRule((req.params as { ruleId: string }).ruleId);
      return reply.code(204).send();
    },
  });
}
