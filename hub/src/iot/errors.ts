// Errors the IoT services raise for a caller's mistake; the HTTP layer maps
// `status`, the Socket.IO handlers send `code` and `message` in acks.

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
