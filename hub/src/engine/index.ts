/** The Engine.IO v4 server. */
export { EngineServer, type ConnectionErrorEvent } from './server.js';
export { EngineSocket, type EngineSocketState, type SendOptions, type SendCallback } from './socket.js';
export { PreparedMessage } from './prepared.js';
export { LapPacer, type LapPacerSteps } from './lap-pacer.js';
export { randomId } from './random-id.js';
export { CompactEmitter } from './compact-emitter.js';
export { EngineMetrics, type EngineBadInputKind } from './metrics.js';
export { EngineErrorCode, ENGINE_ERROR_MESSAGES } from './errors.js';
export type { EngineServerOptions, HttpCompressionOptions, TransportName } from './options.js';
export type { AttachOptions } from './attach.js';
export { applyCors, type CorsOptions } from './cors.js';
export type { CookieOptions } from './cookie.js';
export type { CloseReason, Transport } from './transport.js';
export type { EngineRequest } from './verify.js';
export { guardHttpServer, type HttpGuardOptions, type HttpGuardRefusal } from './http-guard.js';
export { compileTrust, type TrustProxy, type TrustFunction } from './client-address.js';
export type { AdmissionRefusal } from './session-limits.js';
