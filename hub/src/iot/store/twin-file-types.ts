// The twin and file parts of the store contract (issue 21).
import type { Positioned } from './types.js';

/** A twin (protocol/iot twins.ts) and one accepted change of it. */
export type { TwinChange, TwinDocument } from '@sitehub/protocol/iot';
import type { TwinChange, TwinDocument } from '@sitehub/protocol/iot';

/** What a twin write does to the current twin: the new twin and the change to keep, or a refusal with its code. */
export type TwinEdit = (current: TwinDocument) => { twin: TwinDocument; change: TwinChange } | { code: string; message: string };

/** The outcome of a twin write: stored (with its stream position), or refused with the twin as it is. */
export type TwinWriteResult = { ok: true; twin: Positioned<TwinDocument>; change: TwinChange } | { ok: false; code: string; message: string; twin: TwinDocument };

/** Desired and reported documents per device, with their history. */
export interface TwinStore {
  get(deviceId: string): Promise<TwinDocument | undefined>;
  /** Runs `edit` on the device's twin (an empty one if none) inside one write transaction, so edits of one twin never interleave (across hubs too). */
  update(deviceId: string, edit: TwinEdit, now: number): Promise<TwinWriteResult>;
  /** Accepted changes, newest first. */
  history(deviceId: string, limit: number): Promise<TwinChange[]>;
}

export type { FileDeliveryRecord, FileDeliveryStatus, FileRecord } from '@sitehub/protocol/iot';
import type { FileDeliveryRecord, FileDeliveryStatus, FileRecord } from '@sitehub/protocol/iot';

/** A change of a delivery's status or progress. */
export interface FileDeliveryUpdate {
  status?: FileDeliveryStatus;
  confirmed?: number;
  error?: string | null;
}

/** Metadata of stored files (their bytes live on disk) and hub -> device deliveries. */
export interface FileStore {
  /** Stores a file's metadata and, for to_device files, one pending delivery per device. */
  create(file: FileRecord, deliverTo: readonly string[], chunks: number): Promise<void>;
  get(id: string): Promise<FileRecord | undefined>;
  /** Newest first. */
  list(filter: { direction?: FileRecord['direction']; deviceId?: string; limit: number }): Promise<FileRecord[]>;
  deliveries(fileId: string): Promise<FileDeliveryRecord[]>;
  /** A device's deliveries not done or failed, oldest first. */
  openDeliveries(deviceId: string): Promise<FileDeliveryRecord[]>;
  /** Changes a delivery unless it is done or failed already; resolves with it, or undefined. */
  updateDelivery(fileId: string, deviceId: string, update: FileDeliveryUpdate, now: number): Promise<FileDeliveryRecord | undefined>;
  /** Bytes of the files a device uploaded, and of all files. */
  usage(deviceId: string): Promise<{ device: number; total: number }>;
  /** Files created before `cutoff` whose deliveries are all finished (or that have none). */
  expired(cutoff: number, limit: number): Promise<FileRecord[]>;
  /** Deletes a file's metadata and deliveries. */
  delete(id: string): Promise<void>;
}
