// Opening a session, before any transport: the session limits (admission),
// then the application's allowRequest, then the session id (generateId,
// which an application may replace). A refusal says which bad-input kind to
// count, if any; an admitted handshake holds a reservation that the caller
// hands to the new session or releases.
import type { IncomingMessage } from 'node:http';
import { normalizeAddress } from './client-address.js';
import { EngineErrorCode, type RequestRejection } from './errors.js';
import type { EngineMetrics } from './metrics.js';
import type { ResolvedEngineOptions } from './options.js';
import { SessionAdmission, type AdmissionRefusal, type Reservation } from './session-limits.js';

/** What the opener needs from its server. */
export interface OpenerHost {
  readonly opts: ResolvedEngineOptions;
  readonly metrics: EngineMetrics;
  clientAddress(req: IncomingMessage): string;
  generateId(req: IncomingMessage): string | PromiseLike<string>;
  /** Whether a session with this id is open (a generated id must be new). */
  _hasSession(id: string): boolean;
}

/** A refused handshake: the answer to send, and the bad-input kind to count (none for refusals by policy). */
export type OpenRefusal = RequestRejection & { badInput?: string };

/** Called once: a refusal, or the new session's id and its admission place. */
export type OpenAnswer = (rejection: OpenRefusal | undefined, id?: string, reservation?: Reservation) => void;

/** Runs a handshake through the limits, allowRequest and generateId. */
export class SessionOpener {
  private readonly admission: SessionAdmission;

  constructor(private readonly host: OpenerHost) {
    this.admission = new SessionAdmission(host.opts);
  }

  open(req: IncomingMessage, answer: OpenAnswer): void {
    const { host } = this;
    const admitted = this.admission.admit(normalizeAddress(host.clientAddress(req)));
    if (typeof admitted === 'string') {
      host.metrics.countRefusal(admitted);
      answer(limitRejection(admitted, host.opts.handshakeRatePerAddress));
      return;
    }
    const done = (rejection: RequestRejection | undefined, id?: string) => {
      if (rejection) {
        admitted.release();
        answer({ ...rejection, badInput: rejection.code === EngineErrorCode.FORBIDDEN ? undefined : 'bad_request' });
      } else {
        answer(undefined, id, admitted);
      }
    };
    const withId = () => {
      let generated: string | PromiseLike<string>;
      try {
        generated = host.generateId(req);
      } catch (error) {
        done({ code: EngineErrorCode.BAD_REQUEST, context: { name: 'ID_GENERATION_ERROR', error } });
        return;
      }
      Promise.resolve(generated).then(
        (id) => {
          if (typeof id !== 'string' || id === '' || host._hasSession(id)) {
            done({ code: EngineErrorCode.BAD_REQUEST, context: { name: 'ID_GENERATION_ERROR', id } });
            return;
          }
          done(undefined, id);
        },
        (error: unknown) => done({ code: EngineErrorCode.BAD_REQUEST, context: { name: 'ID_GENERATION_ERROR', error } }),
      );
    };
    const allowRequest = host.opts.allowRequest;
    if (!allowRequest) {
      withId();
      return;
    }
    let answered = false;
    allowRequest(req, (err, ok) => {
      if (answered) return;
      answered = true;
      if (!ok) done({ code: EngineErrorCode.FORBIDDEN, message: typeof err === 'string' && err ? err : undefined, context: { message: err } });
      else withId();
    });
  }
}

const LIMIT_MESSAGES: Record<AdmissionRefusal, string> = {
  max_sessions: 'Too many sessions',
  max_sessions_per_address: 'Too many sessions from this address',
  handshake_rate: 'Too many handshakes from this address',
};

/** The answer to a handshake a limit refused: 503 when the server is full, 429 when this address is over its share. */
function limitRejection(reason: AdmissionRefusal, ratePerSecond: number): RequestRejection {
  const status = reason === 'max_sessions' ? 503 : 429;
  const retryAfter = reason === 'handshake_rate' ? Math.max(1, Math.ceil(1 / ratePerSecond)) : 5;
  return {
    code: EngineErrorCode.FORBIDDEN,
    message: LIMIT_MESSAGES[reason],
    context: { name: 'LIMIT', reason },
    status,
    headers: { 'Retry-After': String(retryAfter) },
  };
}
