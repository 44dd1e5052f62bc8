// REST routes for files: upload one (the body streamed to disk, never held
// whole) for a device, a class or a site; list files and read one with its
// deliveries; download one. Device uploads are served inline only when they
// are raster images, and always sandboxed: their bytes come from devices.
import type { FastifyInstance } from 'fastify';
import { HubError } from '../iot/errors.js';
import type { HttpDeps } from './deps.js';
import { ADMIN } from './route-auth.js';
import { errorResponses, idParam, listOf } from './schemas.js';

/** Types a browser may render inline from the hub's origin: raster images only (no SVG, no HTML). */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const fileSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    contentType: { type: 'string' },
    direction: { type: 'string', enum: ['to_device', 'from_device'] },
    deviceId: { type: ['string', 'null'] },
    kind: { type: 'string' },
    source: { type: 'string' },
    createdAt: { type: 'integer' },
  },
} as const;

const deliverySchema = {
  type: 'object',
  properties: {
    fileId: { type: 'string' },
    deviceId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'sending', 'done', 'failed'] },
    confirmed: { type: 'integer' },
    chunks: { type: 'integer' },
    error: { type: ['string', 'null'] },
    updatedAt: { type: 'integer' },
  },
} as const;

const withDeliveries = { type: 'object', properties: { file: fileSchema, deliveries: { type: 'array', items: deliverySchema } } } as const;

/** /api/files… */
export function fileRoutes(app: FastifyInstance, { services }: HttpDeps): void {
  const { files } = services;
  // The upload body stays a stream: the route hands it to the file service, which writes it to disk as it comes.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.post('/api/files', {
    config: ADMIN,
    schema: {
      tags: ['files'],
      summary: 'Upload a file (body: the bytes, application/octet-stream) for one device, every device of a class, or of a site; each gets it on its connection',
      querystring: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 128 },
          contentType: { type: 'string', maxLength: 129 },
          kind: { type: 'string', maxLength: 64 },
          deviceId: { type: 'string', maxLength: 64 },
          classId: { type: 'string', maxLength: 32 },
          siteId: { type: 'string', maxLength: 64 },
        },
        required: ['name'],
        additionalProperties: false,
      },
      response: { 201: withDeliveries, ...errorResponses },
    },
    handler: async (req, reply) => {
      const q = req.query as { name: string; contentType?: string; kind?: string; deviceId?: string; classId?: string; siteId?: string };
      if (!req.headers['content-type']?.startsWith('application/octet-stream')) throw new HubError('file_shape', 'send the bytes as application/octet-stream', 415);
      const body = req.body as NodeJS.ReadableStream & import('node:stream').Readable;
      const target = { ...(q.deviceId !== undefined && { deviceId: q.deviceId }), ...(q.classId !== undefined && { classId: q.classId }), ...(q.siteId !== undefined && { siteId: q.siteId }) };
      const created = await files.create(body, { name: q.name, contentType: q.contentType, kind: q.kind, target }, req.headers.cookie ? 'console' : 'api');
      return reply.code(201).send(created);
    },
  });

  app.get('/api/files', {
    config: ADMIN,
    schema: {
      tags: ['files'],
      summary: 'List files, newest first: operator uploads (to_device) and device uploads (from_device)',
      querystring: {
        type: 'object',
        properties: { direction: { type: 'string', enum: ['to_device', 'from_device'] }, deviceId: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        additionalProperties: false,
      },
      response: { 200: listOf(fileSchema), ...errorResponses },
    },
    handler: async (req) => ({ items: await services.ctx.store.files.list(req.query as { direction?: 'to_device' | 'from_device'; deviceId?: string; limit: number }) }),
  });

  app.get('/api/files/:fileId', {
    config: ADMIN,
    schema: { tags: ['files'], summary: 'A file and its deliveries', params: idParam('fileId'), response: { 200: withDeliveries, ...errorResponses } },
    handler: async (req) => files.get((req.params as { fileId: string }).fileId),
  });

  app.get('/api/files/:fileId/content', {
    config: ADMIN,
    schema: { tags: ['files'], summary: 'The bytes of a file (raster images inline, anything else as an attachment)', params: idParam('fileId') },
    handler: async (req, reply) => {
      const { file } = await files.get((req.params as { fileId: string }).fileId);
      const inline = INLINE_TYPES.has(file.contentType);
      return reply
        .header('content-type', inline ? file.contentType : 'application/octet-stream')
        .header('content-length', String(file.size))
        .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${file.name}"`)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, max-age=3600')
        .send(files.disk.readStream(file.id));
    },
  });
}
