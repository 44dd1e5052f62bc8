// The fastify application: per-route authentication, error mapping, the
// route modules and the OpenAPI document built from them.
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import Fastify, { LogController, type FastifyInstance, type FastifyError } from 'fastify';
import type { Logger } from 'pino';
import { HubError } from '../iot/errors.js';
import { LabelledCounter } from '../iot/metrics.js';
import type { HttpDeps } from './deps.js';
import { collectRoutes, openApiDocument } from './openapi.js';
import { consoleSessionRoutes } from './console-session.js';
import { consoleStaticRoutes } from './console-static.js';
import { installRouteAuth } from './route-auth.js';
import { installSiteScope } from './site-scope.js';
import { alarmRoutes } from './routes-alarms.js';
import { commandRoutes } from './routes-commands.js';
import { dataRoutes } from './routes-data.js';
import { deviceRoutes } from './routes-devices.js';
import { opsRoutes } from './routes-ops.js';
import { peopleRoutes } from './routes-people.js';
import { registryRoutes } from './routes-registry.js';
import { twinRoutes } from './routes-twins.js';
import { fileRoutes } from './routes-files.js';

/** Largest REST request body, in bytes. */
const BODY_LIMIT = 1024 * 1024;

/** Options of the fastify app that come from the hub's configuration. */
export interface HttpAppOptions {
  /** Proxies whose X-Forwarded-* headers set req.ip and req.protocol (false: none). */
  trustProxy?: boolean | string | readonly string[];
  /** With these, the app serves TLS (HTTPS and WSS) on its port. */
  https?: HttpsServerOptions;
}

/** Creates the fastify app (not listening); `deps` may be filled in before the first request. */
export function createHttpApp(log: Logger, deps: () => HttpDeps, version: string, opts: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({
    https: opts.https ?? null,
    loggerInstance: log,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    trustProxy: (opts.trustProxy ?? false) as boolean | string | string[],
  }) as unknown as FastifyInstance;
  const routes = collectRoutes(app);
  const refused = new LabelledCounter();
  installRouteAuth(app, deps, refused);
  installSiteScope(app, deps);
  let openApi: object | undefined;

  app.setErrorHandler((err: FastifyError | HubError, req, reply) => {
    if (err instanceof HubError) return reply.code(err.status).send({ error: err.message, code: err.code });
    if ((err as FastifyError).validation) return reply.code(400).send({ error: err.message, code: 'bad_request' });
    const status = (err as FastifyError).statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message, code: status >= 500 ? 'internal' : ((err as FastifyError).code ?? 'bad_request') });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, code: 'not_found' }));

  app.register(async (scoped) => {
    const d = deps();
    registryRoutes(scoped, d);
    deviceRoutes(scoped, d);
    dataRoutes(scoped, d);
    commandRoutes(scoped, d);
    twinRoutes(scoped, d);
    fileRoutes(scoped, d);
    alarmRoutes(scoped, d);
    peopleRoutes(scoped, d);
    opsRoutes(scoped, d, () => (openApi ??= openApiDocument(routes, version)), refused);
    consoleSessionRoutes(scoped, d);
    consoleStaticRoutes(scoped);
  });
  return app;
}
