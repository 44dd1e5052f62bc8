// The catalogue of codes a device, bridge or operator can be answered with.

/** Why a CONNECT to a device namespace was refused (`connect_error` `data.code`). */
export const CONNECT_REFUSALS = ['invalid_credentials', 'device_disabled', 'unavailable'] as const;
export type ConnectRefusal = (typeof CONNECT_REFUSALS)[number];

/**
 * Refusals of device input on its content (`retryable: false`): resending it
 * unchanged is refused again. `*_size` refusals concern the size of the
 * message (a smaller batch may pass); the others concern a reading itself.
 */
export const INPUT_REFUSALS = [
  'telemetry_shape',
  'telemetry_seq',
  'telemetry_ts',
  'telemetry_size',
  'state_shape',
  'state_ts',
  'state_size',
  'event_shape',
  'event_ts',
  'event_size',
] as const;
export type InputRefusal = (typeof INPUT_REFUSALS)[number];

/** A failure the device should retry (the hub could not commit): `retryable: true`. */
export const STORE_UNAVAILABLE = 'store_unavailable';

/** Codes in answers to operators and bridges (subscribe, confirm, command). */
export const OPERATOR_CODES = [
  'invalid_filter',
  'too_many_subscriptions',
  'invalid_position',
  'replay_in_progress',
  'invalid_command',
  'not_found',
  'internal',
] as const;
export type OperatorCode = (typeof OPERATOR_CODES)[number];

/** True for a refusal a smaller batch of the same readings may pass. */
export function isSizeRefusal(code: unknown): boolean {
  return typeof code === 'string' && code.endsWith('_size');
}
