// The limits a device must respect. The hub tells each device its own values
// in the `limits` event right after the connection; these are the defaults.

/** What the hub accepts from one device message; sent to the device as the `limits` event. */
export interface DeviceLimits {
  /** Most readings in one `telemetry` event. */
  maxReadingsPerBatch: number;
  /** Most keys in one reading's values (and in one state update). */
  maxValuesPerReading: number;
  /** Largest JSON size of one reading's values, a state update or an event, in bytes. */
  maxRecordBytes: number;
  /** How far ahead of the hub's clock a device timestamp may be, in ms. */
  maxClockSkewMs: number;
  /** Largest Socket.IO message the hub takes, in bytes (a bigger one ends the connection). */
  maxMessageBytes: number;
  /** Longest string value in readings and state. */
  maxStringValue: number;
  /** Earliest accepted timestamp (2000-01-01, ms): older ones are a device with no clock. */
  minTs: number;
}

/** The hub's defaults. */
export const DEFAULT_LIMITS: Readonly<DeviceLimits> = Object.freeze({
  maxReadingsPerBatch: 1000,
  maxValuesPerReading: 64,
  maxRecordBytes: 16 * 1024,
  maxClockSkewMs: 5 * 60_000,
  maxMessageBytes: 1_000_000,
  maxStringValue: 1024,
  minTs: 946_684_800_000,
});
