// Site scope on REST: a person limited to some sites reaches only those
// sites and their devices (and the commands and alarms of those devices).
// Checked after authentication and before validation and every handler, from the
// ids a route names (path, query, body), so that no route can forget it; an id
// outside the scope answers exactly as an id that does not exist. Lists are
// narrowed by their handlers (see scopedDevices and the alarms list).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../iot/errors.js';
import { seesSite, type Principal } from '../iot/people.js';
import type { Device, Store } from '../iot/store/types.js';
import type { HttpDeps } from './deps.js';

type Ids = { deviceId?: unknown; siteId?: unknown; commandId?: unknown; alarmId?: unknown };

/** Throws the not-found error when `req` names a site, device, command or alarm outside the principal's sites. */
async function checkScope(store: Store, principal: Principal, req: FastifyRequest): Promise<void> {
  const sources = [req.params, req.query, req.body].filter((x): x is Ids => typeof x === 'object' && x !== null && !Array.isArray(x));
  for (const ids of sources) {
    if (ids.siteId !== undefined && !seesSite(principal, String(ids.siteId))) throw notFound('site', String(ids.siteId));
    if (ids.deviceId !== undefined) await visibleDevice(store, principal, String(ids.deviceId));
    if (ids.commandId !== undefined) {
      const command = await store.commands.get(String(ids.commandId));
      if (command && !(await visibleDevice(store, principal, command.deviceId, false))) throw notFound('command', String(ids.commandId));
    }
    if (ids.alarmId !== undefined) {
      const alarm = await store.alarms.get(Number(ids.alarmId));
      if (alarm && !(await visibleDevice(store, principal, alarm.deviceId, false))) throw notFound('alarm', String(ids.alarmId));
    }
  }
}

/** Whether the device is in scope; by default an out-of-scope device throws its not-found (a missing one is the route's to answer). */
async function visibleDevice(store: Store, principal: Principal, id: string, throwIfNot = true): Promise<boolean> {
  const device = await store.registry.getDevice(id);
  if (!device) return true;
  if (seesSite(principal, device.siteId)) return true;
  if (throwIfNot) throw notFound('device', id);
  return false;
}

/** Installs the scope check on every route of `app` (call before the routes are added). */
export function installSiteScope(app: FastifyInstance, deps: () => HttpDeps): void {
  // Before validation: an id outside the scope answers as missing whatever else is wrong with the request.
  app.addHook('preValidation', async (req) => {
    const principal = req.principal;
    if (!principal || principal.sites === null) return;
    await checkScope(deps().store, principal, req);
  });
}

/** A device page for a principal: its sites only (a siteId filter outside them was refused by the hook). */
export async function scopedDevices(
  store: Store,
  principal: Principal | undefined,
  filter: { siteId?: string; classId?: string; online?: boolean; disabled?: boolean; limit: number; offset: number },
): Promise<Device[]> {
  if (!principal || principal.sites === null || filter.siteId !== undefined) return store.registry.listDevices(filter);
  // Per site, then one page of the merged list ordered by id, as the store orders it.
  const pages = await Promise.all(principal.sites.map((siteId) => store.registry.listDevices({ ...filter, siteId, offset: 0, limit: filter.offset + filter.limit })));
  return pages
    .flat()
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(filter.offset, filter.offset + filter.limit);
}
