// Desired state (twins): the documents, the events that carry them and the
// rules that resolve conflicts, for devices, operators and bridges alike.
//
// A twin holds two JSON documents per device. `desired` is written by
// operators (REST, /console, /bridge); `reported` by the device. Each has a
// version that grows by one per accepted change. Writes are JSON merge
// patches (RFC 7386: an object merges, `null` deletes a key, anything else
// replaces). Conflicts are settled by version:
// - an operator update may name the desired version it was based on; the hub
//   refuses it (`twin_conflict`) when the document has moved on since;
// - the hub sends a device the whole desired document with its version; a
//   device applies a version only if it is newer than the one it applied last,
//   so an old update delivered late never overwrites a newer one;
// - a device report names the desired version it applied; the hub refuses a
//   report older than one it already has (`twin_stale`).

/** A device's twin as the hub stores, returns and streams it. */
export interface TwinDocument {
  deviceId: string;
  desired: Record<string, unknown>;
  /** 0 until an operator sets something. */
  desiredVersion: number;
  reported: Record<string, unknown>;
  /** 0 until the device reports. */
  reportedVersion: number;
  /** The desired version the device last said it applied (0: none). */
  appliedVersion: number;
  updatedAt: number;
}

/** Hub -> device `desired` (on connect when there is a desired document, and on every change): no ack. */
export interface DesiredPayload {
  version: number;
  desired: Record<string, unknown>;
  /** The part of `desired` that differs from what the device last reported. */
  delta: Record<string, unknown>;
}

/** Device -> hub `reported`: a merge patch of the reported document, and the desired version it reflects. */
export interface ReportPayload {
  reported: Record<string, unknown>;
  /** The desired version the device applied; omitted for a report that applies nothing (e.g. at start). */
  version?: number;
}

/** The hub's answer to `reported`: the new reported version, or a refusal (`twin_stale`, `twin_shape`, `twin_size`). */
export type ReportAck = { ok: true; version: number } | { ok: false; error: string; code: string; retryable: boolean };

/** Operator -> hub `twin:set` on /console and /bridge (and the REST body without deviceId). */
export interface DesiredUpdate {
  deviceId: string;
  /** A merge patch of the desired document. */
  desired: Record<string, unknown>;
  /** The desired version this update was based on; refused with `twin_conflict` when the document has another. */
  version?: number;
}

/** Operator -> hub `twin:get`. */
export interface TwinRequest {
  deviceId: string;
}

/** One accepted change, as kept in a twin's history. */
export interface TwinChange {
  deviceId: string;
  side: 'desired' | 'reported';
  /** The side's version after the change. */
  version: number;
  patch: Record<string, unknown>;
  /** 'api', 'console', 'bridge:<tokenId>' for desired; 'device' for reported. */
  source: string;
  ts: number;
}

/** Codes of twin refusals. */
export const TWIN_CODES = ['twin_conflict', 'twin_stale', 'twin_shape', 'twin_size'] as const;
export type TwinCode = (typeof TWIN_CODES)[number];

/** Deepest nesting a twin document may have. */
export const TWIN_MAX_DEPTH = 8;

/** Keys a twin document may not hold: they would reach an object's prototype when merged. */
export const TWIN_FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Applies a JSON merge patch (RFC 7386) to `target` and returns the result; neither input is changed. */
export function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const key of Object.keys(patch)) {
    if (TWIN_FORBIDDEN_KEYS.has(key)) continue;
    const value = patch[key];
    if (value === null) delete out[key];
    else if (isPlainObject(value)) out[key] = mergePatch(isPlainObject(out[key]) ? (out[key] as Record<string, unknown>) : {}, value);
    else out[key] = value;
  }
  return out;
}

/** The part of `desired` that `reported` does not already hold (objects compared key by key). */
export function twinDelta(desired: Record<string, unknown>, reported: Record<string, unknown>): Record<string, unknown> {
  const delta: Record<string, unknown> = {};
  for (const key of Object.keys(desired)) {
    const want = desired[key];
    const have = reported[key];
    if (isPlainObject(want) && isPlainObject(have)) {
      const inner = twinDelta(want, have);
      if (Object.keys(inner).length > 0) delta[key] = inner;
    } else if (JSON.stringify(want) !== JSON.stringify(have)) {
      delta[key] = want;
    }
  }
  return delta;
}
