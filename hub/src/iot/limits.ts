// The limits the IoT services enforce on device input, taken from the config;
// the patterns and fixed bounds come from the device contract.
import { DEFAULT_LIMITS, type DeviceLimits } from '@sitehub/protocol/iot';
import type { HubConfig } from '../config/index.js';

export { CLASS_PATTERN, ID_PATTERN, NAME_PATTERN } from '@sitehub/protocol/iot';

/** Limits on one device message. */
export interface InputLimits {
  maxReadingsPerBatch: number;
  maxValuesPerReading: number;
  maxRecordBytes: number;
  maxClockSkewMs: number;
}

/** The limits part of a config. */
export function inputLimits(config: HubConfig): InputLimits {
  return {
    maxReadingsPerBatch: config.maxReadingsPerBatch,
    maxValuesPerReading: config.maxValuesPerReading,
    maxRecordBytes: config.maxRecordBytes,
    maxClockSkewMs: config.maxClockSkewMs,
  };
}

/** What the hub tells a device in the `limits` event when it connects. */
export function deviceLimits(config: HubConfig): DeviceLimits {
  return { ...DEFAULT_LIMITS, ...inputLimits(config), maxMessageBytes: config.maxMessageBytes };
}

/** Earliest accepted device timestamp (2000-01-01): older ones are a device with no clock. */
export const MIN_TS = DEFAULT_LIMITS.minTs;
/** Longest string value in readings and state. */
export const MAX_STRING_VALUE = DEFAULT_LIMITS.maxStringValue;
