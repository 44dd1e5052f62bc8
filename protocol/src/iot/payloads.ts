// The payloads of the device contract and the event maps of each namespace.
import type { DeviceLimits } from './limits.js';
import type { FileDeliveryRecord, FileRecord } from './files.js';
import type { DesiredPayload, ReportAck, ReportPayload, TwinChange, TwinDocument } from './twins.js';

/** A value a reading or a state attribute may hold. */
export type ReadingValue = number | boolean | string;

/** One telemetry reading: `seq` per device and monotonic, `ts` in ms since the epoch; `V` narrows the values. */
export interface Reading<V = unknown> {
  seq: number;
  ts: number;
  values: Record<string, V>;
}

/**
 * A refusal: `retryable: false` when the content is at fault (resending it is
 * refused again), `true` when the hub could not commit. `index`: the reading
 * at fault in a telemetry batch, when one reading is (absent when the batch
 * as a whole is, e.g. too many readings).
 */
export interface RefusedAck {
  ok: false;
  error: string;
  code: string;
  retryable: boolean;
  index?: number;
}

/** The telemetry ack: how many readings were new and how many the hub already had. */
export type TelemetryAck = { ok: true; stored: number; duplicates: number } | RefusedAck;

/** The hub's answer to `state` (`{ ok: true }`) and `event` (`{ ok: true, id }`). */
export type DeviceAck = { ok: true; id?: number } | RefusedAck;

/** A state update: a flat attribute map, or one with its timestamp. */
export type StatePayload = Record<string, unknown> | { attrs: Record<string, unknown>; ts?: number };

/** Severities an event may carry. */
export const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'] as const;
/** An event's severity. */
export type Severity = (typeof SEVERITIES)[number];

/** An alarm or log from a device. */
export interface EventPayload {
  kind: string;
  severity?: Severity;
  message?: string;
  data?: unknown;
  ts?: number;
}

/** Where a command is in its life. */
export type CommandStatus = 'pending' | 'sent' | 'acked' | 'failed' | 'expired';

/** A command and what became of it, as the hub stores, lists and streams it. */
export interface CommandRecord {
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

/** An alarm or log from a device, as the hub stores, lists and streams it. */
export interface DeviceEventRecord {
  id: number;
  deviceId: string;
  ts: number;
  kind: string;
  severity: string;
  message: string;
  data: unknown;
  receivedAt: number;
}

/** Where an alarm is in its life: raised, seen by a person, over. */
export type AlarmState = 'active' | 'acknowledged' | 'cleared';

/** An alarm as the hub stores, lists and streams it: raised by a rule or by a device's own `event`. */
export interface AlarmRecord {
  id: number;
  deviceId: string;
  /** The rule that raised it; null for a device's own alarm. */
  ruleId: string | null;
  source: 'rule' | 'device';
  /** The rule's condition (above, below, outside, rate, silence) or the device event's kind. */
  kind: string;
  /** What makes two raises the same alarm: the rule id, or the device event's data.code (else its message). */
  key: string;
  severity: string;
  message: string;
  /** The value that raised it (a reading's value, a rate, the silence in ms, or the event's data). */
  value: unknown;
  state: AlarmState;
  /** When it was raised (ms since the epoch). */
  ts: number;
  ackedBy: string | null;
  ackedAt: number | null;
  /** 'rule', 'device', or the person who cleared it. */
  clearedBy: string | null;
  clearedAt: number | null;
  updatedAt: number;
}

/** What a rule watches for. */
export type RuleCondition = 'above' | 'below' | 'outside' | 'rate' | 'silence';

/** A rule that raises an alarm on a device of its scope (a class, a site or one device). */
export interface AlarmRuleRecord {
  id: string;
  name: string;
  scope: { kind: 'class' | 'site' | 'device'; id: string };
  /** The telemetry metric watched; for `silence`, optional (any reading counts when absent). */
  metric: string | null;
  condition: RuleCondition;
  /** above / below: the threshold; rate: the largest allowed change per second (either way). */
  threshold: number | null;
  /** outside: the band [low, high] a value must stay in. */
  low: number | null;
  high: number | null;
  /** How far back across the threshold a value must come before the alarm clears (so it does not flap). */
  hysteresis: number;
  /** How long (by reading time) the condition must hold before the alarm is raised. */
  holdMs: number;
  /** silence: how long without a reading before the alarm is raised. */
  silenceMs: number | null;
  severity: 'info' | 'warning' | 'error' | 'critical';
  /** The alarm's message (default: made from the rule). */
  message: string | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A command as the hub sends it to a device. */
export interface DeviceCommand {
  id: string;
  name: string;
  params: unknown;
}

/** A device's answer to a command. */
export interface CommandAnswer {
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Sent once to a device that enrolled with the enrollment key: its token, never shown again. */
export interface EnrolledPayload {
  deviceId: string;
  token: string;
}

/** Events a device sends, with their payload and the ack it gets. */
export interface DeviceToHubEvents {
  telemetry: (readings: Reading | Reading[], ack: (answer: TelemetryAck) => void) => void;
  state: (state: StatePayload, ack: (answer: DeviceAck) => void) => void;
  event: (event: EventPayload, ack: (answer: DeviceAck) => void) => void;
  /** The device's twin report (twins.ts). */
  reported: (report: ReportPayload, ack: (answer: ReportAck) => void) => void;
}

/** Events the hub sends a device. */
export interface HubToDeviceEvents {
  /** Right after the connection: the limits this hub applies. */
  limits: (limits: DeviceLimits) => void;
  enrolled: (payload: EnrolledPayload) => void;
  command: (command: DeviceCommand, ack: (answer: CommandAnswer) => void) => void;
  /** The desired document, on connect and on every change (twins.ts). */
  desired: (payload: DesiredPayload) => void;
}

/** What every stream payload starts with: the device, and the record's stream position when stored. */
export interface StreamHeader {
  deviceId: string;
  siteId: string;
  classId: string;
  /** Store-assigned position, increasing in commit order; absent when the record could not be stored. */
  pos?: number;
}

/** Stream payloads pushed to /console and /bridge, by event name. */
export interface StreamPayloads {
  telemetry: StreamHeader & { readings: Array<Reading<ReadingValue>> };
  state: StreamHeader & { attrs: Record<string, unknown>; ts: number; updatedAt: number; changed: Record<string, unknown> };
  event: StreamHeader & Omit<DeviceEventRecord, 'deviceId'>;
  presence: StreamHeader & { online: boolean; ts: number; reason: string; transport: string };
  command: StreamHeader & Omit<CommandRecord, 'deviceId'>;
  /** A twin after an accepted change, with the change. */
  twin: StreamHeader & Omit<TwinDocument, 'deviceId'> & { change: Omit<TwinChange, 'deviceId'> };
  /** A hub -> device delivery's progress (not replayed to bridges: progress is live only). */
  file: StreamHeader & Omit<FileDeliveryRecord, 'deviceId'> & { name: string };
  /** A file a device uploaded, once stored. */
  upload: StreamHeader & Omit<FileRecord, 'deviceId'>;
  /** An alarm raised, acknowledged or cleared. */
  alarm: StreamHeader & Omit<AlarmRecord, 'deviceId'>;
}

/** A stream event name. */
export type StreamEventName = keyof StreamPayloads;

/** Told to a bridge resuming from a position the hub no longer holds: records after `after` through `through` are gone. */
export interface GapNotice {
  after: number;
  through: number;
  reason: 'retention' | 'unknown_position';
}

/** One page of a bridge's replay: records as `[event, payload]`, and the position the page reaches. */
export interface ReplayPage {
  records: Array<[StreamEventName, StreamPayloads[StreamEventName]]>;
  through: number;
}

/** The end of a bridge's replay: from where, through where, how many records, and the gap if any. */
export interface ResumeOutcome {
  from: number;
  through: number;
  records: number;
  gap?: GapNotice;
}

/** A subscription request on /console or /bridge; `after` (bridges only) resumes from a position or from the token's confirmed one. */
export interface SubscribeRequest {
  all?: boolean;
  siteId?: string;
  sites?: string[];
  classId?: string;
  classes?: string[];
  deviceId?: string;
  devices?: string[];
  after?: number | 'confirmed';
}
