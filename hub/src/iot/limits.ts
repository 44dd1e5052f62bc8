// The limits the IoT services enforce on device input, taken from the config.
import type { HubConfig } from '../config/index.js';

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

/** Identifiers: sites and devices. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** Device classes: they are part of a namespace name. */
export const CLASS_PATTERN = /^[a-z0-9-]{1,32}$/;
/** Metric, attribute, command and event-kind names. */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Earliest accepted device timestamp (2000-01-01): older ones are a device with no clock. */
export const MIN_TS = 946_684_800_000;
/** Longest string value in readings and state. */
export const MAX_STRING_VALUE = 1024;
