// Errors the IoT services raise for a caller's mistake; the HTTP layer maps
// `status`, the Socket.IO handlers send `code` and `message` in acks.
import { STORE_UNAVAILABLE } from '@sitehub/protocol/iot';

/** A refused request: `code` is stable for programs, `message` is for people. */
export class HubError extends Error {
  override name = 'HubError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** 404 for a missing resource. */
export function notFound(what: string, id: string): HubError {
  return new HubError('not_found', `${what} "${id}" does not exist`, 404);
}

/** A device ack for input refused on its content: resending it unchanged is refused again; `index` names the reading at fault. */
export function refusedAck(code: string, error: string, index?: number): { ok: false; error: string; code: string; retryable: false; index?: number } {
  return index === undefined ? { ok: false, error, code, retryable: false } : { ok: false, error, code, retryable: false, index };
}

/** The device ack when the commit failed: nothing was stored, resend the same seqs. */
export const STORE_UNAVAILABLE_ACK = Object.freeze({
  ok: false,
  error: 'store unavailable, retry later',
  code: STORE_UNAVAILABLE,
  retryable: true,
} as const);
