// The registry service: sites, device classes, devices and their credentials,
// bridge tokens. Tokens are returned once, at creation or rotation.
import { HubError, notFound } from './errors.js';
import type { IotEvents } from './iot-events.js';
import { CLASS_PATTERN, ID_PATTERN } from './limits.js';
import type { BridgeToken, Device, DeviceClass, DeviceFilter, Site, Store } from './store/types.js';
import { hashToken, newId, newToken, tokenMatches } from './tokens.js';

/** Why a device CONNECT was refused; the same code for every credential mistake, so nothing hints which part was wrong. */
export type DeviceRefusal = 'invalid_credentials' | 'device_disabled';

/** What a successful device authentication yields. */
export interface AuthenticatedDevice {
  id: string;
  classId: string;
  siteId: string;
  /** Set when the device enrolled itself on this connect: its new token, to be given to it once. */
  enrolledToken?: string;
}

function checkId(value: unknown, what: string, pattern = ID_PATTERN): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new HubError('invalid_id', `${what} must match ${pattern.source}`);
  }
  return value;
}

/** Registry operations on top of the store; emits `credentials-revoked` (the one owner of that event). */
export class Registry {
  constructor(
    private readonly store: Store,
    private readonly enrollmentKey: string | undefined,
    private readonly events: IotEvents,
  ) {}

  async createSite(input: { id: unknown; name?: string; meta?: Record<string, unknown> }): Promise<Site> {
    const id = checkId(input.id, 'site id');
    if (await this.store.registry.getSite(id)) throw new HubError('conflict', `site "${id}" already exists`, 409);
    const site: Site = { id, name: input.name ?? id, meta: input.meta ?? {}, createdAt: Date.now() };
    await this.store.registry.createSite(site);
    return site;
  }

  async updateSite(id: string, patch: { name?: string; meta?: Record<string, unknown> }): Promise<Site> {
    const site = await this.store.registry.updateSite(id, patch);
    if (!site) throw notFound('site', id);
    return site;
  }

  async getSite(id: string): Promise<Site> {
    const site = await this.store.registry.getSite(id);
    if (!site) throw notFound('site', id);
    return site;
  }

  async createClass(input: { id: unknown; name?: string; description?: string; meta?: Record<string, unknown> }): Promise<DeviceClass> {
    const id = checkId(input.id, 'class id', CLASS_PATTERN);
    if (await this.store.registry.getClass(id)) throw new HubError('conflict', `class "${id}" already exists`, 409);
    const cls: DeviceClass = { id, name: input.name ?? id, description: input.description ?? '', meta: input.meta ?? {}, createdAt: Date.now() };
    await this.store.registry.createClass(cls);
    return cls;
  }

  /** Changes a class's name, description or metadata. */
  async updateClass(id: string, patch: Partial<Pick<DeviceClass, 'name' | 'description' | 'meta'>>): Promise<DeviceClass> {
    const cls = await this.store.registry.updateClass(id, patch);
    if (!cls) throw notFound('class', id);
    return cls;
  }

  async getClass(id: string): Promise<DeviceClass> {
    const cls = await this.store.registry.getClass(id);
    if (!cls) throw notFound('class', id);
    return cls;
  }

  /** Registers a device; the token in the answer is never shown again. */
  async registerDevice(input: { id?: unknown; classId: string; siteId: string; name?: string; meta?: Record<string, unknown> }): Promise<{ device: Device; token: string }> {
    const id = input.id === undefined ? newId('dev') : checkId(input.id, 'device id');
    if (!(await this.store.registry.getClass(input.classId))) throw new HubError('unknown_class', `class "${input.classId}" does not exist`, 400);
    if (!(await this.store.registry.getSite(input.siteId))) throw new HubError('unknown_site', `site "${input.siteId}" does not exist`, 400);
    if (await this.store.registry.getCredentials(id)) throw new HubError('conflict', `device "${id}" already exists`, 409);
    const token = newToken();
    const now = Date.now();
    const record = { id, classId: input.classId, siteId: input.siteId, name: input.name ?? id, meta: input.meta ?? {}, disabled: false, createdAt: now, updatedAt: now };
    await this.store.registry.createDevice(record, hashToken(token));
    return { device: { ...record, online: false, lastSeen: null }, token };
  }

  async getDevice(id: string): Promise<Device> {
    const device = await this.store.registry.getDevice(id);
    if (!device) throw notFound('device', id);
    return device;
  }

  listDevices(filter: DeviceFilter): Promise<Device[]> {
    return this.store.registry.listDevices(filter);
  }

  async updateDevice(id: string, patch: { name?: string; siteId?: string; meta?: Record<string, unknown>; disabled?: boolean }): Promise<Device> {
    if (patch.siteId !== undefined && !(await this.store.registry.getSite(patch.siteId))) {
      throw new HubError('unknown_site', `site "${patch.siteId}" does not exist`, 400);
    }
    const device = await this.store.registry.updateDevice(id, patch);
    if (!device) throw notFound('device', id);
    // A moved device must rejoin its site room, a disabled one must go: both by reconnecting.
    if (patch.disabled === true) this.events.emit('credentials-revoked', { kind: 'device', id }, 'device disabled', 'local');
    else if (patch.siteId !== undefined) this.events.emit('credentials-revoked', { kind: 'device', id }, 'device moved to another site', 'local');
    return device;
  }

  /** Deletes a device: its session ends and its token stops working; its history stays until retention prunes it. */
  async deleteDevice(id: string): Promise<void> {
    if (!(await this.store.registry.deleteDevice(id))) throw notFound('device', id);
    this.events.emit('credentials-revoked', { kind: 'device', id }, 'device deleted', 'local');
  }

  /** Issues a new token; the old one stops working at once and the live session ends. */
  async rotateToken(id: string): Promise<{ device: Device; token: string }> {
    const token = newToken();
    if (!(await this.store.registry.setTokenHash(id, hashToken(token)))) throw notFound('device', id);
    this.events.emit('credentials-revoked', { kind: 'device', id }, 'token rotated', 'local');
    return { device: await this.getDevice(id), token };
  }

  /** Checks a device CONNECT to `/devices/<classId>`; enrolls an unknown device when enrollment is on and the key matches. */
  async authenticateDevice(classId: string, auth: Record<string, unknown>): Promise<AuthenticatedDevice | DeviceRefusal> {
    const deviceId = typeof auth.deviceId === 'string' && ID_PATTERN.test(auth.deviceId) ? auth.deviceId : undefined;
    const creds = deviceId ? await this.store.registry.getCredentials(deviceId) : undefined;
    if (!creds && deviceId && this.enrollmentKey !== undefined && auth.enrollmentKey !== undefined) {
      return this.enroll(deviceId, classId, auth);
    }
    // Always one comparison, against a decoy when the device is unknown: same work, same answer.
    const tokenOk = tokenMatches(auth.token, creds?.tokenHash);
    if (!creds || !tokenOk || creds.classId !== classId) return 'invalid_credentials';
    if (creds.disabled) return 'device_disabled';
    return { id: creds.id, classId: creds.classId, siteId: creds.siteId };
  }

  private async enroll(deviceId: string, classId: string, auth: Record<string, unknown>): Promise<AuthenticatedDevice | DeviceRefusal> {
    const keyOk = tokenMatches(auth.enrollmentKey, hashToken(this.enrollmentKey!));
    const siteId = typeof auth.siteId === 'string' ? auth.siteId : undefined;
    if (!keyOk || !siteId) return 'invalid_credentials';
    try {
      const { token } = await this.registerDevice({ id: deviceId, classId, siteId, name: deviceId });
      return { id: deviceId, classId, siteId, enrolledToken: token };
    } catch {
      // Unknown class or site, or a concurrent enrollment of the same id: a refusal like any other.
      return 'invalid_credentials';
    }
  }

  /** Creates a bridge credential; the token in the answer is never shown again. */
  async createBridgeToken(name: string): Promise<{ bridgeToken: BridgeToken; token: string }> {
    const token = newToken();
    const bridgeToken: BridgeToken = { id: newId('brg'), name, disabled: false, createdAt: Date.now() };
    await this.store.registry.createBridgeToken(bridgeToken, hashToken(token));
    return { bridgeToken, token };
  }

  /** The bridge credential `token` belongs to, if it is valid. */
  async authenticateBridge(token: unknown): Promise<BridgeToken | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 256) return undefined;
    const found = await this.store.registry.findBridgeToken(hashToken(token));
    return found && !found.disabled ? found : undefined;
  }

  async disableBridgeToken(id: string): Promise<void> {
    if (!(await this.store.registry.disableBridgeToken(id))) throw notFound('bridge token', id);
    this.events.emit('credentials-revoked', { kind: 'bridge', id }, 'bridge token disabled', 'local');
  }
}
