// Row shapes and their mapping to records, shared by the SQLite and
// PostgreSQL stores (the columns and their JSON text are the same in both).
import type { Command, CommandStatus, DeviceEvent, FileDeliveryRecord, FileRecord, TwinChange, TwinDocument } from './types.js';

/** A row of the commands table. */
export interface CommandRow {
  id: string;
  device_id: string;
  name: string;
  params: string | null;
  status: CommandStatus;
  attempts: number;
  created_at: number;
  updated_at: number;
  expires_at: number;
  result: string | null;
  error: string | null;
  source: string;
}

/** A command row as the record the hub uses. */
export function toCommand(r: CommandRow): Command {
  return {
    id: r.id,
    deviceId: r.device_id,
    name: r.name,
    params: r.params === null ? null : JSON.parse(r.params),
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
    result: r.result === null ? null : JSON.parse(r.result),
    error: r.error,
    source: r.source,
  };
}

/** A row of the events table. */
export interface EventRow {
  id: number;
  device_id: string;
  ts: number;
  kind: string;
  severity: string;
  message: string;
  data: string | null;
  received_at: number;
}

/** An event row as the record the hub uses. */
export function toEvent(r: EventRow): DeviceEvent {
  return {
    id: r.id,
    deviceId: r.device_id,
    ts: r.ts,
    kind: r.kind,
    severity: r.severity,
    message: r.message,
    data: r.data === null ? null : JSON.parse(r.data),
    receivedAt: r.received_at,
  };
}

/** A row of the twins table. */
export interface TwinRow {
  device_id: string;
  desired: string;
  desired_version: number;
  reported: string;
  reported_version: number;
  applied_version: number;
  updated_at: number;
}

/** A twin row as the record the hub uses. */
export function toTwin(r: TwinRow): TwinDocument {
  return {
    deviceId: r.device_id,
    desired: JSON.parse(r.desired) as Record<string, unknown>,
    desiredVersion: r.desired_version,
    reported: JSON.parse(r.reported) as Record<string, unknown>,
    reportedVersion: r.reported_version,
    appliedVersion: r.applied_version,
    updatedAt: r.updated_at,
  };
}

/** The twin of a device nobody has written to yet. */
export function emptyTwin(deviceId: string): TwinDocument {
  return { deviceId, desired: {}, desiredVersion: 0, reported: {}, reportedVersion: 0, appliedVersion: 0, updatedAt: 0 };
}

/** A row of the twin history table. */
export interface TwinChangeRow {
  device_id: string;
  side: 'desired' | 'reported';
  version: number;
  patch: string;
  source: string;
  ts: number;
}

/** A history row as the record the hub uses. */
export function toTwinChange(r: TwinChangeRow): TwinChange {
  return { deviceId: r.device_id, side: r.side, version: r.version, patch: JSON.parse(r.patch) as Record<string, unknown>, source: r.source, ts: r.ts };
}

/** A twin's stream body: the twin without its device id, with the change (also without). */
export function twinStreamBody(twin: TwinDocument, change: TwinChange): Record<string, unknown> {
  const { deviceId: _d, ...body } = twin;
  const { deviceId: _c, ...rest } = change;
  return { ...body, change: rest };
}

/** A row of the files table. */
export interface FileRow {
  id: string;
  name: string;
  size: number;
  sha256: string;
  content_type: string;
  direction: FileRecord['direction'];
  device_id: string | null;
  kind: string;
  source: string;
  created_at: number;
}

export function toFile(r: FileRow): FileRecord {
  return { id: r.id, name: r.name, size: r.size, sha256: r.sha256, contentType: r.content_type, direction: r.direction, deviceId: r.device_id, kind: r.kind, source: r.source, createdAt: r.created_at };
}

/** A row of the file_deliveries table. */
export interface FileDeliveryRow {
  file_id: string;
  device_id: string;
  status: FileDeliveryRecord['status'];
  confirmed: number;
  chunks: number;
  error: string | null;
  updated_at: number;
}

export function toDelivery(r: FileDeliveryRow): FileDeliveryRecord {
  return { fileId: r.file_id, deviceId: r.device_id, status: r.status, confirmed: r.confirmed, chunks: r.chunks, error: r.error, updatedAt: r.updated_at };
}
