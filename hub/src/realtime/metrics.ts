// Counters of refused or odd input at the Socket.IO layer (BAD-INPUTS.md).
// Engine.IO-level refusals (HTTP errors, oversize bodies, bad frames) are
// counted by the engine; these start where a message reaches the decoder.

/** Counters exposed as `io.metrics`; they only ever grow. */
export class RealtimeMetrics {
  /** Messages the Socket.IO decoder refused; the connection was closed. */
  parseErrors = 0;
  /** CONNECTs to a namespace that does not exist (answered "Invalid namespace"). */
  invalidNamespaces = 0;
  /** Packets that break the connection state machine (packet for a namespace not joined,
   *  second CONNECT, CONNECT_ERROR from the client); the connection was closed. */
  protocolViolations = 0;
  /** Connections closed because no CONNECT arrived within connectTimeout. */
  connectTimeouts = 0;
  /** Connections closed because a binary packet's attachments did not all arrive within attachmentTimeout. */
  attachmentTimeouts = 0;
  /** Messages nested deeper than maxNestingDepth, refused unparsed; the connection was closed. */
  tooDeepMessages = 0;
  /** Incoming `error` events (or per-packet middleware errors) with no listener; dropped, never thrown. */
  unhandledErrorEvents = 0;
  /** CONNECTs refused by a namespace middleware. */
  middlewareRejections = 0;
  /** ACKs whose id matches no pending callback (late, duplicate or forged). */
  unknownAcks = 0;
  /** Successful connection state recoveries. */
  recoveredSessions = 0;

  /** A plain copy, for logs and the metrics endpoint. */
  toJSON(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}
