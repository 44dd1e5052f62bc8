// The store's interface: what the IoT services need from a database, and the
// records it returns. SQLite implements it today (sqlite-*.ts); a server
// database can implement it later without touching the services. Every
// method is async for that reason, and every write resolves only once durable.

/** A place devices belong to (a building, a field, a plant). */
export interface Site {
  id: string;
  name: string;
  meta: Record<string, unknown>;
  createdAt: number;
}

/** A kind of device; its devices connect to `/devices/<id>`. */
export interface DeviceClass {
  id: string;
  name: string;
  description: string;
  createdAt: number;
}

/** A registered device as the API shows it (never its token). */
export interface Device {
  id: string;
  classId: string;
  siteId: string;
  name: string;
  meta: Record<string, unknown>;
  disabled: boolean;
  online: boolean;
  lastSeen: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What authentication needs about a device. */
export interface DeviceCredentials {
  id: string;
  classId: string;
  siteId: string;
  disabled: boolean;
  tokenHash: Buffer;
}

/** Filters of a device listing. */
export interface DeviceFilter {
  siteId?: string;
  classId?: string;
  online?: boolean;
  disabled?: boolean;
  limit: number;
  offset: number;
}

/** One telemetry reading: `seq` per device, `ts` in ms since the epoch. */
export interface Reading {
  seq: number;
  ts: number;
  values: Record<string, unknown>;
}

/** A validated reading with its values already serialised (validation measured them). */
export interface EncodedReading extends Reading {
  valuesJson: string;
}

/** The outcome of storing a batch of readings. */
export interface TelemetryWriteResult {
  /** Readings new to the store, in the order given. */
  stored: Reading[];
  /** How many were already there (same device and seq). */
  duplicates: number;
}

/** A range query over a device's readings. */
export interface TelemetryQuery {
  deviceId: string;
  from: number;
  to: number;
  afterSeq?: number;
  limit: number;
}

/** One bucket of an aggregate query. */
export interface TelemetryBucket {
  /** Start of the bucket, ms since the epoch. */
  ts: number;
  min: number;
  max: number;
  avg: number;
  count: number;
}

/** A device's current state: its attributes, each the last value reported. */
export interface DeviceState {
  deviceId: string;
  attrs: Record<string, unknown>;
  ts: number;
  updatedAt: number;
}

/** One state update as reported. */
export interface StateChange {
  deviceId: string;
  attrs: Record<string, unknown>;
  ts: number;
}

/** An alarm or log event from a device. */
export interface DeviceEvent {
  id: number;
  deviceId: string;
  ts: number;
  kind: string;
  severity: string;
  message: string;
  data: unknown;
  receivedAt: number;
}

/** Where a command is in its life. */
export type CommandStatus = 'pending' | 'sent' | 'acked' | 'failed' | 'expired';

/** A command to a device and what became of it. */
export interface Command {
  id: string;
  deviceId: string;
  name: string;
  params: unknown;
  status: CommandStatus;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  result: unknown;
  error: string | null;
  /** Who asked: 'api', 'console' or 'bridge:<tokenId>'. */
  source: string;
}

/** A change of a command's status. */
export interface CommandUpdate {
  status: CommandStatus;
  attempts?: number;
  result?: unknown;
  error?: string | null;
}

/** One connect or disconnect of a device. */
export interface PresenceChange {
  deviceId: string;
  online: boolean;
  ts: number;
  reason: string;
  transport: string;
}

/** A bridge credential as the API shows it. */
export interface BridgeToken {
  id: string;
  name: string;
  disabled: boolean;
  createdAt: number;
}

/** Sites, classes, devices and bridge credentials. */
export interface RegistryStore {
  createSite(site: Site): Promise<void>;
  updateSite(id: string, patch: Partial<Pick<Site, 'name' | 'meta'>>): Promise<Site | undefined>;
  getSite(id: string): Promise<Site | undefined>;
  listSites(): Promise<Site[]>;
  createClass(cls: DeviceClass): Promise<void>;
  getClass(id: string): Promise<DeviceClass | undefined>;
  listClasses(): Promise<DeviceClass[]>;
  createDevice(device: Omit<Device, 'online' | 'lastSeen'>, tokenHash: Buffer): Promise<void>;
  getDevice(id: string): Promise<Device | undefined>;
  getCredentials(id: string): Promise<DeviceCredentials | undefined>;
  listDevices(filter: DeviceFilter): Promise<Device[]>;
  updateDevice(id: string, patch: Partial<Pick<Device, 'name' | 'siteId' | 'meta' | 'disabled'>>): Promise<Device | undefined>;
  setTokenHash(id: string, tokenHash: Buffer): Promise<boolean>;
  createBridgeToken(token: BridgeToken, tokenHash: Buffer): Promise<void>;
  listBridgeTokens(): Promise<BridgeToken[]>;
  findBridgeToken(tokenHash: Buffer): Promise<BridgeToken | undefined>;
  disableBridgeToken(id: string): Promise<boolean>;
}

/** Readings, idempotent on (device, seq). */
export interface TelemetryStore {
  insert(deviceId: string, readings: readonly EncodedReading[], receivedAt: number): Promise<TelemetryWriteResult>;
  query(q: TelemetryQuery): Promise<Reading[]>;
  aggregate(deviceId: string, metric: string, from: number, to: number, intervalMs: number): Promise<TelemetryBucket[]>;
  count(deviceId: string): Promise<number>;
}

/** Current state with history, and device events. */
export interface StateEventStore {
  applyState(change: StateChange, receivedAt: number): Promise<DeviceState>;
  getState(deviceId: string): Promise<DeviceState | undefined>;
  stateHistory(deviceId: string, from: number, to: number, limit: number): Promise<StateChange[]>;
  insertEvent(event: Omit<DeviceEvent, 'id'>): Promise<DeviceEvent>;
  listEvents(deviceId: string, from: number, to: number, kind: string | undefined, limit: number): Promise<DeviceEvent[]>;
  /** The newest alarms of every device (kind `alarm`, or severity warning, error or critical), newest first. */
  recentAlarms(limit: number): Promise<DeviceEvent[]>;
}

/** Commands and their status. */
export interface CommandStore {
  create(command: Command): Promise<void>;
  get(id: string): Promise<Command | undefined>;
  list(filter: { deviceId?: string; status?: CommandStatus; limit: number }): Promise<Command[]>;
  update(id: string, update: CommandUpdate, now: number): Promise<Command | undefined>;
  /** Commands of a device waiting for delivery (pending or sent and not expired), oldest first. */
  deliverable(deviceId: string, now: number): Promise<Command[]>;
  /** Marks every pending/sent command whose time is up as expired; returns them. */
  expire(now: number): Promise<Command[]>;
}

/** Online state, last seen and connect history. */
export interface PresenceStore {
  record(change: PresenceChange): Promise<void>;
  /** Marks every device offline (after a restart nobody is connected). */
  resetOnline(ts: number): Promise<number>;
  history(deviceId: string, limit: number): Promise<PresenceChange[]>;
}

/** Figures about the write path, for /metrics. */
export interface StoreStats {
  commits: number;
  jobs: number;
  failedJobs: number;
  queueDepth: number;
  lastCommitMs: number;
  commitMsSum: number;
  /** Commit latency histogram: counts of commits at or below each bound (ms). */
  commitMsBuckets: Array<[number, number]>;
}

/** The hub's database. */
export interface Store {
  readonly registry: RegistryStore;
  readonly telemetry: TelemetryStore;
  readonly stateEvents: StateEventStore;
  readonly commands: CommandStore;
  readonly presence: PresenceStore;
  /** Deletes records older than `cutoff` (ms); returns how many went. */
  prune(cutoff: number): Promise<number>;
  /** Is the database answering? */
  ping(): Promise<boolean>;
  stats(): StoreStats;
  /** Resolves once every write submitted so far is committed. */
  flush(): Promise<void>;
  /** Flushes and closes; later writes are refused. */
  close(): Promise<void>;
}
