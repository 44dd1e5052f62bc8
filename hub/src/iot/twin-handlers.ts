// What /console and /bridge sockets may do with twins: read one, set desired
// properties (with the version the change was based on), read the history.
import type { Socket } from '../realtime/index.js';
import { ackOf, type IotContext } from './context.js';
import { HubError } from './errors.js';
import { hasRole, seesSite, type Principal } from './people.js';
import { TwinError, type Twins } from './twins.js';

/** Most history entries one `twin:history` answer holds. */
const MAX_HISTORY = 500;

function errorAnswer(err: unknown): Record<string, unknown> {
  if (err instanceof TwinError && err.twin) return { ok: false, error: err.message, code: err.code, twin: err.twin };
  if (err instanceof HubError) return { ok: false, error: err.message, code: err.code };
  return { ok: false, error: 'internal error', code: 'internal' };
}

function request(arg: unknown): Record<string, unknown> {
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) throw new HubError('twin_shape', 'request must be an object { deviceId, … }');
  return arg as Record<string, unknown>;
}

/** Installs `twin:get`, `twin:set` and `twin:history` on an operator socket; `source` is kept with its changes. */
export function attachTwinHandlers(ctx: IotContext, twins: Twins, socket: Socket, kind: 'console' | 'bridge', source: string): void {
  // Fails closed like the other operator handlers: no principal reads nothing and changes nothing.
  const principal: Principal = (socket.data.principal as Principal | undefined) ?? { name: 'unknown', role: 'viewer', sites: [], accountId: null };
  /** The device id of a request, if the principal's sites include it; out of scope answers as a device that does not exist. */
  const visible = async (req: Record<string, unknown>): Promise<string> => {
    const deviceId = String(req.deviceId);
    if (principal.sites === null) return deviceId;
    const device = await ctx.store.registry.getDevice(deviceId);
    if (!device || !seesSite(principal, device.siteId)) throw new HubError('not_found', `no device ${deviceId}`);
    return deviceId;
  };
  const handle = (event: string, run: (req: Record<string, unknown>) => Promise<Record<string, unknown>>) => {
    socket.on(event, async (...args: unknown[]) => {
      const ack = ackOf(args);
      ctx.metrics.eventsIn.inc(`${kind}|${event}`);
      try {
        ack({ ok: true, ...(await run(request(args[0]))) });
      } catch (err) {
        if (err instanceof HubError) ctx.metrics.badInputs.inc(`${kind}_twin`);
        else ctx.log.error({ err }, `${event} failed`);
        ack(errorAnswer(err));
      }
    });
  };
  handle('twin:get', async (req) => ({ twin: await twins.get(await visible(req)) }));
  handle('twin:set', async (req) => {
    if (!hasRole(principal, 'operator')) throw new HubError('forbidden', `setting desired properties needs the operator role; you are ${principal.role}`);
    return { twin: await twins.setDesired(await visible(req), req.desired, req.version, source) };
  });
  handle('twin:history', async (req) => {
    const limit = typeof req.limit === 'number' && Number.isInteger(req.limit) ? Math.min(Math.max(req.limit, 1), MAX_HISTORY) : 100;
    return { items: await twins.history(await visible(req), limit) };
  });
}
