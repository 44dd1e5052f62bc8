// Operational routes without authentication: health, readiness, metrics and
// the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { renderMetrics } from './prometheus.js';

/** /healthz, /readyz, /metrics, /openapi.json */
export function opsRoutes(app: FastifyInstance, deps: HttpDeps, openApi: () => object): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const db = await deps.store.ping();
    const accepting = deps.isAccepting();
    // A cluster adapter reports its link to the other nodes (Redis); the in-memory one has none.
    const adapter = deps.io.adapter()?.health?.();
    const ok = db && accepting && adapter?.ok !== false;
    return reply.code(ok ? 200 : 503).send(adapter ? { ok, db, accepting, adapter } : { ok, db, accepting });
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderMetrics(deps)));
  app.get('/openapi.json', async () => openApi());
}
