// Builds the OpenAPI 3.1 document from the routes' own JSON schemas, so the
// document cannot drift from what the hub validates.
import type { FastifyInstance, RouteOptions } from 'fastify';

interface Collected {
  method: string;
  url: string;
  schema: Record<string, any>;
  /** Who may call the route (its `config.auth`). */
  auth: unknown;
}

/** Records every route with a schema as it is registered; call before adding routes. */
export function collectRoutes(app: FastifyInstance): Collected[] {
  const routes: Collected[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.schema || route.method === 'HEAD') return;
    for (const method of [route.method].flat()) routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema as Record<string, any>, auth: route.config?.auth });
  });
  return routes;
}

function parameters(where: 'path' | 'query', schema: any): any[] {
  if (!schema?.properties) return [];
  const required = new Set<string>(schema.required ?? []);
  return Object.entries<any>(schema.properties).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || required.has(name), schema: rest, ...(description && { description }) };
  });
}

/** The OpenAPI document of `routes`. */
export function openApiDocument(routes: Collected[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const { method, url, schema, auth } of routes) {
    const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, object> = {};
    for (const [status, body] of Object.entries<any>(schema.response ?? {})) {
      responses[status] = body?.type === 'null' ? { description: 'no content' } : { description: status.startsWith('2') ? 'success' : 'error', content: { 'application/json': { schema: body } } };
    }
    paths[path] ??= {};
    paths[path]![method] = {
      ...(schema.summary && { summary: schema.summary }),
      ...(schema.tags && { tags: schema.tags }),
      parameters: [...parameters('path', schema.params), ...parameters('query', schema.querystring)],
      ...(schema.body && { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } }),
      responses,
      // The document-wide requirement is the admin token; a public route (the sign-in) needs none.
      ...(auth === 'public' ? { security: [] } : schema.security && { security: schema.security }),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'sitehub API', version, description: 'REST API of the sitehub IoT hub. Every /api route needs `Authorization: Bearer <admin token>` (or the web console\'s session cookie from its own origin); 401 without it, 429 after repeated wrong tokens from one address.' },
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    security: [{ adminToken: [] }],
    paths,
  };
}
