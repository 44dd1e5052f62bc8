// Row shapes and their mapping to records, shared by the SQLite and
// PostgreSQL stores (the columns and their JSON text are the same in both).
import type { Command, CommandStatus, DeviceEvent } from './types.js';

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
