// JSON schemas shared by the routes: they validate requests, shape responses
// and are the source of the OpenAPI document.

const anyObject = { type: 'object', additionalProperties: true } as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' } },
  required: ['error', 'code'],
} as const;

export const idParam = (name: string) =>
  ({ type: 'object', properties: { [name]: { type: 'string', maxLength: 64 } }, required: [name] }) as const;

export const siteSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, meta: anyObject, createdAt: { type: 'integer' } },
  required: ['id', 'name', 'meta', 'createdAt'],
} as const;

export const classSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, meta: anyObject, createdAt: { type: 'integer' } },
  required: ['id', 'name', 'description', 'createdAt'],
} as const;

export const deviceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    classId: { type: 'string' },
    siteId: { type: 'string' },
    name: { type: 'string' },
    meta: anyObject,
    disabled: { type: 'boolean' },
    online: { type: 'boolean' },
    lastSeen: { type: ['integer', 'null'] },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
  required: ['id', 'classId', 'siteId', 'name', 'disabled', 'online', 'createdAt', 'updatedAt'],
} as const;

export const deviceWithTokenSchema = {
  type: 'object',
  properties: { device: deviceSchema, token: { type: 'string', description: 'shown once; only its hash is stored' } },
  required: ['device', 'token'],
} as const;

export const readingSchema = {
  type: 'object',
  properties: { seq: { type: 'integer' }, ts: { type: 'integer' }, values: anyObject },
  required: ['seq', 'ts', 'values'],
} as const;

export const bucketSchema = {
  type: 'object',
  properties: { ts: { type: 'integer' }, min: { type: 'number' }, max: { type: 'number' }, avg: { type: 'number' }, count: { type: 'integer' } },
  required: ['ts', 'min', 'max', 'avg', 'count'],
} as const;

export const stateSchema = {
  type: 'object',
  properties: { deviceId: { type: 'string' }, attrs: anyObject, ts: { type: 'integer' }, updatedAt: { type: 'integer' } },
  required: ['deviceId', 'attrs', 'ts'],
} as const;

export const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    deviceId: { type: 'string' },
    ts: { type: 'integer' },
    kind: { type: 'string' },
    severity: { type: 'string' },
    message: { type: 'string' },
    data: {},
    receivedAt: { type: 'integer' },
  },
  required: ['id', 'deviceId', 'ts', 'kind', 'severity', 'message', 'receivedAt'],
} as const;

export const commandStatuses = ['pending', 'sent', 'acked', 'failed', 'expired'] as const;

export const commandSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    deviceId: { type: 'string' },
    name: { type: 'string' },
    params: {},
    status: { type: 'string', enum: commandStatuses },
    attempts: { type: 'integer' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    expiresAt: { type: 'integer' },
    result: {},
    error: { type: ['string', 'null'] },
    source: { type: 'string' },
  },
  required: ['id', 'deviceId', 'name', 'status', 'attempts', 'createdAt', 'updatedAt', 'expiresAt', 'source'],
} as const;

export const bridgeTokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, disabled: { type: 'boolean' }, createdAt: { type: 'integer' } },
  required: ['id', 'name', 'disabled', 'createdAt'],
} as const;

/** Wraps a schema as `{ items: [...] }`, the shape of every list answer. */
export const listOf = (item: object) => ({ type: 'object', properties: { items: { type: 'array', items: item } }, required: ['items'] }) as const;

/** Standard error answers, added to each route's responses. */
export const errorResponses = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema } as const;
