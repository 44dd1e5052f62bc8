// Files in both directions on a device's own Socket.IO connection: chunked
// binary with credit-based flow control, resumable, verified.
//
// The receiver drives: it grants credit, and the sender never has more
// chunks out than granted, so neither side holds more than its window in
// memory. Every chunk carries the CRC-32 of its bytes; the whole file is
// checked against its SHA-256 at the end.
//
// Hub -> device:
//   hub    `file:offer`  FileOffer          ack FileOfferAck { ok, have }
//   device `file:credit` FileCredit         (from `have`: "send up to next+credit-1")
//   hub    `file:chunk`  FileChunk          (binary, no ack)
//   device `file:done`   FileDone           ack { ok }
// Device -> hub:
//   device `file:upload` FileUploadRequest  ack FileUploadAck { ok, have, chunkSize }
//   hub    `file:credit`, device `file:chunk`, hub `file:done`, as above.
//
// Resume: a transfer keeps its id across connections. The receiver keeps the
// chunks it confirmed (a partial file) and answers the next offer/upload with
// `have` = how many; the sender continues from there. A chunk whose CRC does
// not match is dropped and asked again with `resend: true` (go-back-N: the
// chunks after it are sent again too).

/** Hub -> device: a file to fetch. */
export interface FileOffer {
  /** Transfer id: stays the same across reconnects (resume). */
  id: string;
  /** Base name the device should store it under (no directories). */
  name: string;
  size: number;
  /** Hex SHA-256 of the whole file. */
  sha256: string;
  /** Bytes per chunk; the last one may be shorter. */
  chunkSize: number;
  contentType: string;
}

/** The device's answer to an offer: how many chunks it already has, or a refusal. */
export type FileOfferAck = { ok: true; have: number } | { ok: false; error: string; code?: string };

/** Receiver -> sender: everything before `next` is confirmed; chunks up to `next + credit - 1` may be sent. */
export interface FileCredit {
  id: string;
  next: number;
  credit: number;
  /** Chunk `next` arrived corrupt or out of order: send again from there. */
  resend?: boolean;
}

/** Sender -> receiver: one chunk, its bytes as a binary attachment. */
export interface FileChunk {
  id: string;
  index: number;
  /** CRC-32 (IEEE) of `data`, unsigned. */
  crc: number;
  data: Uint8Array;
}

/** Receiver -> sender: the outcome, after the SHA-256 check (and, on a device, the write and the hook). */
export interface FileDone {
  id: string;
  ok: boolean;
  sha256?: string;
  error?: string;
  code?: string;
  /** A device that ran its hook: the hook's exit code and the tail of its output. */
  hook?: { code: number | null; output: string };
  /** Hub -> device answers to an upload: the stored file's id. */
  fileId?: string;
}

/** Device -> hub: a file to upload (a snapshot, a log). */
export interface FileUploadRequest {
  /** Chosen by the device, the same across reconnects to resume: [A-Za-z0-9_-]{1,64}. */
  id: string;
  name: string;
  size: number;
  sha256: string;
  contentType: string;
  /** What it is, e.g. `snapshot`, `log`. */
  kind: string;
}

/** The hub's answer to an upload request. */
export type FileUploadAck = { ok: true; have: number; chunkSize: number } | { ok: false; error: string; code: string };

/** Where a hub -> device delivery is. */
export type FileDeliveryStatus = 'pending' | 'sending' | 'done' | 'failed';

/** A hub -> device delivery as the hub lists and streams it (`file` stream event). */
export interface FileDeliveryRecord {
  fileId: string;
  deviceId: string;
  status: FileDeliveryStatus;
  /** Chunks the device confirmed. */
  confirmed: number;
  chunks: number;
  error: string | null;
  updatedAt: number;
}

/** A stored file's metadata. */
export interface FileRecord {
  id: string;
  name: string;
  size: number;
  sha256: string;
  contentType: string;
  /** `to_device` (uploaded by an operator) or `from_device` (uploaded by a device). */
  direction: 'to_device' | 'from_device';
  /** The uploading device (from_device). */
  deviceId: string | null;
  /** `snapshot`, `log`, … (from_device), `firmware`, `config`, … (to_device, optional). */
  kind: string;
  source: string;
  createdAt: number;
}

/** Refusal codes of file transfers. */
export const FILE_CODES = ['file_too_large', 'file_quota', 'file_name', 'file_shape', 'file_busy', 'file_checksum', 'file_unknown'] as const;
export type FileCode = (typeof FILE_CODES)[number];

/** Transfer ids and upload ids. */
export const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A safe base name: no path separators, no leading dot, printable, at most 128 characters. */
export const FILE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

/** Default bytes per chunk. */
export const DEFAULT_FILE_CHUNK_BYTES = 256 * 1024;

/** How many chunks a file of `size` bytes has. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}
