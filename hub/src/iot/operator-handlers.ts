// What /console and /bridge sockets may do once authenticated: subscribe to
// streams by site, class or device (rooms), and send commands whose final
// result comes back in the ack. Bridges may also resume a subscription from a
// stream position and confirm the positions they have handed on.
import type { Socket } from '../realtime/index.js';
import type { CommandRequest, Commands } from './commands.js';
import { ackOf, type IotContext } from './context.js';
import { HubError } from './errors.js';
import { CLASS_PATTERN, ID_PATTERN } from './limits.js';
import { hasRole, seesSite, type People, type Principal } from './people.js';
import { ConfirmedPosition, parseResume, replayThenJoin } from './stream-replay.js';
import { StreamFollower } from './stream-follower.js';

/** Most stream rooms one operator socket may join. */
const MAX_SUBSCRIPTIONS = 1000;
/** Longest an operator waits in a command ack for the device's answer. */
const MAX_COMMAND_WAIT_MS = 120_000;

/** Turns a subscription filter into room names; throws HubError on a malformed filter. */
export function filterRooms(filter: unknown): string[] {
  if (filter === undefined || filter === null) return ['all'];
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new HubError('invalid_filter', 'filter must be an object');
  const f = filter as Record<string, unknown>;
  const rooms: string[] = [];
  const add = (prefix: string, value: unknown, pattern: RegExp, key: string) => {
    if (value === undefined) return;
    const list = Array.isArray(value) ? value : [value];
    for (const item of list) {
      if (typeof item !== 'string' || !pattern.test(item)) throw new HubError('invalid_filter', `${key} must hold ids matching ${pattern.source}`);
      rooms.push(`${prefix}:${item}`);
    }
  };
  add('site', f.siteId, ID_PATTERN, 'siteId');
  add('site', f.sites, ID_PATTERN, 'sites');
  add('class', f.classId, CLASS_PATTERN, 'classId');
  add('class', f.classes, CLASS_PATTERN, 'classes');
  add('device', f.deviceId, ID_PATTERN, 'deviceId');
  add('device', f.devices, ID_PATTERN, 'devices');
  if (f.all === true || rooms.length === 0) rooms.push('all');
  return rooms;
}

/**
 * The rooms a site-scoped principal may join for a filter: everything means
 * its sites; a site or device outside them, or a whole class (which spans
 * sites), is refused with the same answer whether or not it exists.
 */
export async function scopedRooms(ctx: IotContext, principal: Principal, rooms: string[]): Promise<string[]> {
  if (principal.sites === null) return rooms;
  const out = new Set<string>();
  for (const room of rooms) {
    const [kind, id] = [room.slice(0, room.indexOf(':')), room.slice(room.indexOf(':') + 1)];
    if (room === 'all') for (const site of principal.sites) out.add(`site:${site}`);
    else if (kind === 'site' && seesSite(principal, id)) out.add(room);
    else if (kind === 'device') {
      const device = await ctx.store.registry.getDevice(id);
      if (!device || !seesSite(principal, device.siteId)) throw new HubError('forbidden', `not one of your sites' devices: ${id}`);
      out.add(room);
    } else throw new HubError('forbidden', kind === 'class' ? 'a site-scoped account subscribes by site or device, not by class' : `not one of your sites: ${id}`);
  }
  return [...out];
}

function errorAnswer(err: unknown): { ok: false; error: string; code: string } {
  if (err instanceof HubError) return { ok: false, error: err.message, code: err.code };
  return { ok: false, error: 'internal error', code: 'internal' };
}

/** Installs subscribe/unsubscribe/command handlers on an operator socket; `source` is stored with its commands. */
export function attachOperatorHandlers(ctx: IotContext, commands: Commands, socket: Socket, kind: 'console' | 'bridge', source: string, people?: People): void {
  // Fails closed: a socket that reached here without a principal can read nothing of any site and command nothing.
  const principal: Principal = (socket.data.principal as Principal | undefined) ?? { name: 'unknown', role: 'viewer', sites: [], accountId: null };
  const bridgeId = kind === 'bridge' ? (socket.data.bridgeId as string) : undefined;
  const confirmed = bridgeId === undefined ? undefined : new ConfirmedPosition(ctx, bridgeId);
  let replaying = false;
  // On a cluster a bridge session follows the store (stream-follower.ts): one follower, made by its first subscribe.
  const feed = kind === 'bridge' ? ctx.streams.feed : undefined;
  let follower: StreamFollower | undefined;
  if (feed) socket.on('disconnect', () => follower && (follower.stop(), feed.remove(follower)));
  socket.on('subscribe', async (...args: unknown[]) => {
    const ack = ackOf(args);
    ctx.metrics.eventsIn.inc(`${kind}|subscribe`);
    let rooms: string[];
    let start: number | undefined;
    let resuming = false;
    try {
      rooms = await scopedRooms(ctx, principal, filterRooms(args[0]));
      if (socket.rooms.size + rooms.length > MAX_SUBSCRIPTIONS + 1) throw new HubError('too_many_subscriptions', `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
      const after = args[0] && typeof args[0] === 'object' ? parseResume((args[0] as Record<string, unknown>).after) : undefined;
      if (after !== undefined && bridgeId === undefined) throw new HubError('invalid_filter', 'only bridges resume from a position');
      // Rooms joined during a replay would let live records overtake replayed ones.
      if (replaying) throw new HubError('replay_in_progress', 'a resume is running on this session');
      // One cursor per session keeps its positions increasing: a second resume needs a new session.
      if (follower && after !== undefined) throw new HubError('replay_in_progress', 'this session already follows the stream; resume in a new session');
      // Taken before the first await, so that two subscribes cannot both pass the check above.
      resuming = replaying = after !== undefined;
      start = after === 'confirmed' ? await ctx.store.stream.bridgePosition(bridgeId!) : after;
    } catch (err) {
      if (resuming) replaying = false;
      if (err instanceof HubError) ctx.metrics.badInputs.inc(`${kind}_subscribe`);
      else ctx.log.error({ err }, 'subscribe failed');
      return ack(errorAnswer(err));
    }
    if (feed) return follow(rooms, start, ack);
    if (start === undefined) {
      replaying = false;
      void socket.join(rooms);
      // The head tells a bridge with no position where the live stream starts.
      return ack({ ok: true, rooms, ...(bridgeId !== undefined && { head: await ctx.store.stream.head() }) });
    }
    ack({ ok: true, rooms, from: start });
    try {
      const outcome = await replayThenJoin(ctx, socket, rooms, start);
      socket.emit('resumed', outcome);
    } catch (err) {
      // A bridge that cannot take its replay resumes again on its next session.
      if (socket.connected) ctx.log.warn({ err, bridgeId }, 'replay to a bridge failed; ending its session');
      socket.disconnect(true);
    } finally {
      replaying = false;
    }
  });
  /** A cluster's bridge subscription: rooms joined (the follower's filter, and live-only events), the store followed. */
  async function follow(rooms: string[], start: number | undefined, ack: (answer: unknown) => void): Promise<void> {
    // Gone while the subscribe was being checked: its disconnect handler has run already, so no follower.
    if (!socket.connected) return;
    void socket.join(rooms);
    if (follower) {
      // More rooms for the same stream: they match from the follower's position on.
      return ack({ ok: true, rooms });
    }
    const f = (follower = new StreamFollower(ctx, socket));
    feed!.add(f);
    try {
      if (start === undefined) return ack({ ok: true, rooms, head: await f.fromHead() });
      ack({ ok: true, rooms, from: start });
      await f.resume(start);
    } catch (err) {
      if (start === undefined) {
        ctx.log.error({ err }, 'subscribe failed');
        ack(errorAnswer(err));
      } else if (socket.connected) ctx.log.warn({ err, bridgeId }, 'replay to a bridge failed; ending its session');
      feed!.remove(f);
      follower = undefined;
      socket.disconnect(true);
    } finally {
      replaying = false;
    }
  }
  if (confirmed) {
    socket.on('confirm', async (...args: unknown[]) => {
      const ack = ackOf(args);
      ctx.metrics.eventsIn.inc('bridge|confirm');
      try {
        const payload = args[0];
        const pos = await confirmed.confirm(payload && typeof payload === 'object' ? (payload as Record<string, unknown>).pos : undefined);
        // The last words of a bridge that is stopping: keep them now, not after the throttle.
        if (!socket.connected || (payload as Record<string, unknown>).final === true) await confirmed.flush();
        ack({ ok: true, pos });
      } catch (err) {
        ctx.metrics.badInputs.inc('bridge_confirm');
        ack(errorAnswer(err));
      }
    });
    socket.on('disconnect', () => void confirmed.flush());
  }
  socket.on('unsubscribe', (...args: unknown[]) => {
    const ack = ackOf(args);
    ctx.metrics.eventsIn.inc(`${kind}|unsubscribe`);
    try {
      const rooms = filterRooms(args[0]);
      for (const room of rooms) void socket.leave(room);
      ack({ ok: true, rooms });
    } catch (err) {
      ctx.metrics.badInputs.inc(`${kind}_subscribe`);
      ack(errorAnswer(err));
    }
  });
  socket.on('command', async (...args: unknown[]) => {
    const ack = ackOf(args);
    ctx.metrics.eventsIn.inc(`${kind}|command`);
    const req = (args[0] ?? {}) as Record<string, unknown>;
    let audited = false;
    const audit = (outcome: string) =>
      !audited && (audited = true) && people?.audit({ actor: principal.name, action: 'command', target: `${String(req?.deviceId)} ${String(req?.name)}`.slice(0, 200), outcome, address: socket.handshake.address });
    try {
      if (typeof req !== 'object') throw new HubError('invalid_command', 'command must be an object { deviceId, name, params?, ttlMs?, wait? }');
      if (!hasRole(principal, 'operator')) throw new HubError('forbidden', `sending commands needs the operator role; you are ${principal.role}`);
      if (principal.sites !== null) {
        const device = typeof req.deviceId === 'string' ? await ctx.store.registry.getDevice(req.deviceId) : undefined;
        // The same answer as for an unknown device: a scoped person learns nothing of other sites.
        if (!device || !seesSite(principal, device.siteId)) throw new HubError('not_found', `no device ${String(req.deviceId)}`);
      }
      const created = await commands.create(req as CommandRequest, source);
      audit('ok');
      if (req.wait === false) return ack({ ok: true, command: created });
      const waitMs = Math.min(typeof req.waitMs === 'number' && req.waitMs > 0 ? req.waitMs : MAX_COMMAND_WAIT_MS, created.expiresAt - created.createdAt, MAX_COMMAND_WAIT_MS);
      const command = await commands.waitForFinal(created.id, waitMs);
      ack({ ok: true, command });
    } catch (err) {
      audit(err instanceof HubError ? err.code : 'internal');
      if (err instanceof HubError) ctx.metrics.badInputs.inc(`${kind}_command`);
      else ctx.log.error({ err }, 'operator command failed');
      ack(errorAnswer(err));
    }
  });
}
