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
  /** Free metadata; `units` (metric -> unit, e.g. { temp: "°C" }) labels the console's charts. */
  meta: Record<string, unknown>;
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

import type { AlarmRecord, AlarmRuleRecord, AlarmState, CommandRecord, CommandStatus, DeviceEventRecord, Reading, StreamEventName } from '@sitehub/protocol/iot';

export type { AlarmState, Reading, StreamEventName };

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
  /** Stream position of the new readings (see StreamStore); absent when nothing was new. */
  pos?: number;
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

/** An alarm or log event from a device (the contract's record). */
export type DeviceEvent = DeviceEventRecord;

/** A command to a device and what became of it (the contract's record). */
export type Command = CommandRecord;
export type { CommandStatus };

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
  updateClass(id: string, patch: Partial<Pick<DeviceClass, 'name' | 'description' | 'meta'>>): Promise<DeviceClass | undefined>;
  createDevice(device: Omit<Device, 'online' | 'lastSeen'>, tokenHash: Buffer): Promise<void>;
  getDevice(id: string): Promise<Device | undefined>;
  getCredentials(id: string): Promise<DeviceCredentials | undefined>;
  listDevices(filter: DeviceFilter): Promise<Device[]>;
  updateDevice(id: string, patch: Partial<Pick<Device, 'name' | 'siteId' | 'meta' | 'disabled'>>): Promise<Device | undefined>;
  setTokenHash(id: string, tokenHash: Buffer): Promise<boolean>;
  /** Removes a device from the registry (its history stays until retention prunes it). */
  deleteDevice(id: string): Promise<boolean>;
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

/** A write's result with the stream position the store gave it (see StreamStore). */
export type Positioned<T> = T & { pos: number };

/** Current state with history, and device events. */
export interface StateEventStore {
  applyState(change: StateChange, receivedAt: number): Promise<Positioned<DeviceState>>;
  getState(deviceId: string): Promise<DeviceState | undefined>;
  stateHistory(deviceId: string, from: number, to: number, limit: number): Promise<StateChange[]>;
  insertEvent(event: Omit<DeviceEvent, 'id'>): Promise<Positioned<DeviceEvent>>;
  listEvents(deviceId: string, from: number, to: number, kind: string | undefined, limit: number): Promise<DeviceEvent[]>;
  /** The newest alarms of every device (kind `alarm`, or severity warning, error or critical), newest first. */
  recentAlarms(limit: number): Promise<DeviceEvent[]>;
}

/** Commands and their status. */
export interface CommandStore {
  /** Stores a new command; resolves with its stream position. */
  create(command: Command): Promise<number>;
  get(id: string): Promise<Command | undefined>;
  list(filter: { deviceId?: string; status?: CommandStatus; limit: number }): Promise<Command[]>;
  update(id: string, update: CommandUpdate, now: number): Promise<Positioned<Command> | undefined>;
  /** Commands of a device waiting for delivery (pending or sent and not expired), oldest first. */
  deliverable(deviceId: string, now: number): Promise<Command[]>;
  /**
   * Takes a command for delivery on the device session `epoch`: status sent,
   * attempts + 1. Refused (undefined) when the command is final, expired, out
   * of attempts, or already taken by a newer session of the device, so two
   * nodes never deliver it at the same time.
   */
  claim(id: string, epoch: number, maxAttempts: number, now: number): Promise<Positioned<Command> | undefined>;
  /** Pending commands (never sent) of the devices whose current session is on `node`, oldest first, at most `limit`. */
  pendingOnNode(node: string, now: number, limit: number): Promise<Command[]>;
  /** Marks every pending/sent command whose time is up as expired; returns them. */
  expire(now: number): Promise<Array<Positioned<Command>>>;
}

/** A device session the store ordered: its epoch and the stream position of the change. */
export interface ClaimedSession {
  epoch: number;
  pos: number;
}

/** A device a store marked offline on behalf of a node that is gone. */
export interface ReleasedDevice {
  deviceId: string;
  pos: number;
}

/** Online state, last seen and connect history. */
export interface PresenceStore {
  /** Stores a presence change; resolves with its stream position. */
  record(change: PresenceChange): Promise<number>;
  /**
   * A new session of a device on `node`: the device's epoch goes up by one
   * (in commit order, across every node sharing the store), and the device is
   * online on that node. Every later change of this session names the epoch.
   */
  claim(change: PresenceChange, node: string): Promise<ClaimedSession>;
  /**
   * A change of the session `epoch` (offline, upgraded, restored): stored only
   * if that session is still the device's newest; resolves with the stream
   * position, or undefined when a newer session exists (a late offline from a
   * dying node never overwrites a newer online).
   */
  recordIfCurrent(change: PresenceChange, epoch: number): Promise<number | undefined>;
  /** Marks every device offline (after a restart nobody is connected). */
  resetOnline(ts: number): Promise<number>;
  /** Marks offline every device whose current session is on `node` (a node gone, or this node starting again). */
  releaseNode(node: string, ts: number, reason: string): Promise<ReleasedDevice[]>;
  /** Counts a heartbeat of `node` (reachable by other nodes at `url`, if given); resolves false when the node had no row (first beat, or it was declared gone). */
  heartbeat(node: string, ts: number, url?: string): Promise<boolean>;
  /** Every node's heartbeat count, to notice one that stopped, and the URL it gave. */
  nodes(): Promise<Array<{ node: string; beats: number; at: number; url?: string }>>;
  /** The current session epoch of each of these devices (those that exist). */
  epochs(deviceIds: readonly string[]): Promise<Array<{ deviceId: string; epoch: number }>>;
  /** Forgets a node (it is gone, its devices released). */
  forgetNode(node: string): Promise<void>;
  history(deviceId: string, limit: number): Promise<PresenceChange[]>;
}

/** One replayable stream record: what was streamed live, as stored. */
export interface StreamRecord {
  /** Store-assigned position: increasing in commit order, never reused. */
  pos: number;
  event: StreamEventName;
  deviceId: string;
  /** The device's site and class now (for the subscription filter). */
  siteId: string;
  classId: string;
  /** The stream payload without deviceId, siteId, classId and pos. */
  body: Record<string, unknown>;
}

/**
 * The replay log behind resumable bridge streams. Every write that the hub
 * streams (readings, state, events, presence, command changes) appends one
 * record in the same transaction and returns its position, so a record is
 * replayable exactly when it is stored. Positions must grow in commit order:
 * a database shared by several hub nodes has to serialise the append (for
 * example a counter row updated in the writing transaction) so that a reader
 * never sees position N+1 committed before N.
 */
export interface StreamStore {
  /**
   * Records after position `after`, oldest first, at most `limit`. When there
   * are none, `onEmpty` (if given) runs synchronously at a point where every
   * write committed before it is in the answer and every later write is
   * reported to its caller (and so published live) after it: the replay joins
   * the live stream there without a gap.
   */
  readAfter(after: number, limit: number, onEmpty?: () => void): Promise<StreamRecord[]>;
  /** The last position assigned (0 when none). */
  head(): Promise<number>;
  /** Every record at or below this position has been pruned by retention. */
  prunedThrough(): Promise<number>;
  /** The position a bridge token last confirmed, if any. */
  bridgePosition(tokenId: string): Promise<number | undefined>;
  /** Keeps `pos` as the token's confirmed position, unless a later one is already kept. */
  confirmBridgePosition(tokenId: string, pos: number, now: number): Promise<void>;
  /** Deletes records stored before `cutoff` (ms); returns how many went. */
  prune(cutoff: number): Promise<number>;
}

/** Twins and files (twin-file-types.ts). */
export type { FileDeliveryRecord, FileDeliveryStatus, FileDeliveryUpdate, FileRecord, FileStore, TwinChange, TwinDocument, TwinEdit, TwinStore, TwinWriteResult } from './twin-file-types.js';
import type { FileStore, TwinStore } from './twin-file-types.js';

/** An alarm (the contract's record). */
export type Alarm = AlarmRecord;
/** An alarm rule (the contract's record). */
export type AlarmRule = AlarmRuleRecord;

/** Filters of an alarm listing; `open` means active or acknowledged. */
export interface AlarmFilter {
  state?: AlarmState | 'open';
  deviceId?: string;
  siteId?: string;
  /** Only alarms of devices of these sites (a site-scoped person's view). */
  sites?: readonly string[];
  severity?: string;
  ruleId?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** A person's step in an alarm's life. */
export interface AlarmChange {
  state: 'acknowledged' | 'cleared';
  by: string;
  at: number;
}

/** Alarm rules and the alarms they (and devices) raise. */
export interface AlarmStore {
  listRules(): Promise<AlarmRule[]>;
  getRule(id: string): Promise<AlarmRule | undefined>;
  /** Stores a new rule, or replaces the one with its id. */
  putRule(rule: AlarmRule): Promise<void>;
  deleteRule(id: string): Promise<boolean>;
  /**
   * Raises an alarm unless one with the same device and key is still open
   * (active or acknowledged); resolves with the new alarm and its stream
   * position, or undefined when one was open.
   */
  raise(alarm: Omit<Alarm, 'id' | 'state' | 'ackedBy' | 'ackedAt' | 'clearedBy' | 'clearedAt' | 'updatedAt'>): Promise<Positioned<Alarm> | undefined>;
  /** Moves an alarm on (active -> acknowledged, active or acknowledged -> cleared); undefined if it was not in a state that allows it. */
  change(id: number, change: AlarmChange): Promise<Positioned<Alarm> | undefined>;
  /** Clears the open alarm of a device with this key (the rule or the device saw the condition end). */
  clearKey(deviceId: string, key: string, by: string, at: number): Promise<Positioned<Alarm> | undefined>;
  get(id: number): Promise<Alarm | undefined>;
  /** Newest first. */
  list(filter: AlarmFilter): Promise<Alarm[]>;
}

/** Accounts, tokens, sessions and the audit log (people-types.ts). */
export type { Account, ApiToken, AuditEntry, PeopleStore, Role, SessionRecord } from './people-types.js';
import type { PeopleStore } from './people-types.js';

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
  readonly stream: StreamStore;
  readonly twins: TwinStore;
  readonly files: FileStore;
  readonly alarms: AlarmStore;
  readonly people: PeopleStore;
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
