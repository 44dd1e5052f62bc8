// Operational routes without authentication: health, readiness, metrics and
// the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import type { LabelledCounter } from '../iot/metrics.js';
import type { HttpDeps } from './deps.js';
import { renderMetrics } from './prometheus.js';
import { PUBLIC } from './route-auth.js';

/** /healthz, /readyz, /metrics, /openapi.json; `refused` is the REST refusal counter shown in /metrics. */
export function opsRoutes(app: FastifyInstance, deps: HttpDeps, openApi: () => object, refused: LabelledCounter): void {
  app.get('/healthz', { config: PUBLIC }, async () => ({ ok: true }));
  app.get('/readyz', { config: PUBLIC }, async (_req, reply) => {
    const db = await deps.store.ping();
    const accepting = deps.isAccepting();
    // A cluster adapter reports its link to the other nodes (Redis); the in-memory one has none.
    const adapter = deps.io.adapter()?.health?.();
    const ok = db && accepting && adapter?.ok !== false;
    const node = deps.services.nodeId;
    return reply.code(ok ? 200 : 503).send(adapter ? { ok, db, accepting, node, adapter } : { ok, db, accepting, node });
  });
  app.get('/metrics', { config: PUBLIC }, async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderMetrics(deps, refused)));
  app.get('/openapi.json', { config: PUBLIC }, async () => openApi());
}
