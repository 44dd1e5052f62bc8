// Counters for malformed or hostile input, as DESIGN.md requires: every bad
// input gets a clean answer *and* is counted, so an operator can see attacks
// and broken clients without reading logs.

/** Kinds of bad input the Engine.IO layer recognises. Other layers may record their own kinds. */
export type EngineBadInputKind =
  | 'transport_unknown'
  | 'session_id_unknown'
  | 'bad_handshake_method'
  | 'bad_request'
  | 'unsupported_protocol_version'
  | 'payload_too_large'
  | 'binary_post'
  | 'duplicate_poll'
  | 'duplicate_post'
  | 'duplicate_websocket'
  | 'parse_error'
  | 'unexpected_packet'
  | 'client_ping'
  | 'client_pong'
  | 'websocket_fragment_flood'
  | 'websocket_protocol_error'
  | 'upgrade_socket_error'
  | 'invalid_upgrade';

/** Metrics an EngineServer keeps; read them, do not replace them. */
export class EngineMetrics {
  /** Bad inputs seen since start, by kind. */
  readonly badInputs = new Map<string, number>();
  /** Sessions closed because their client read too slowly. */
  slowConsumersClosed = 0;
  /** Handshakes and connections refused by a limit, by reason (see AdmissionRefusal and guardHttpServer). */
  readonly refused = new Map<string, number>();

  /** Adds one refusal for `reason`. */
  countRefusal(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** Adds one to `kind`; returns the new count. */
  countBadInput(kind: string): number {
    const next = (this.badInputs.get(kind) ?? 0) + 1;
    this.badInputs.set(kind, next);
    return next;
  }

  /** Total bad inputs of every kind. */
  get badInputTotal(): number {
    let total = 0;
    for (const n of this.badInputs.values()) total += n;
    return total;
  }
}
