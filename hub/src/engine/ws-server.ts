// The ws server behind the WebSocket transport, in noServer mode: we route
// upgrades ourselves and only hand ws the ones that passed our checks.
import { WebSocketServer } from 'ws';
import type { ResolvedEngineOptions } from './options.js';
import { TransportWebSocket } from './websocket.js';

/**
 * Creates the ws server with every inbound limit set.
 *
 * - `maxPayload` = maxHttpBufferSize: a larger message closes with 1009
 *   (CVE-2020-36048).
 * - Fragment floods (CVE-2026-48779): ws only shows us complete messages,
 *   so the flood has to be stopped inside ws. Its receiver counts the frames
 *   of the message being assembled, empty ones included, and fails with 1008
 *   past `maxFragments`; it also fails with 1008 when more than
 *   `maxBufferedChunks` network chunks wait to be parsed. Together with
 *   maxPayload this bounds both the bytes and the bookkeeping one message
 *   can cost, which a message-rate limit of our own could not (the
 *   fragments never reach us). The defaults are far below ws's own
 *   (16384 / 262144) and far above what real clients use.
 * - `autoPong` is off: the transport answers pings itself, and only while
 *   the client is reading what we send.
 * - `clientTracking` is off: sessions are tracked by the EngineServer.
 * - `WebSocket` is ws's class with a slot for the transport (websocket.ts).
 */
export function createWebSocketServer(opts: ResolvedEngineOptions): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    clientTracking: false,
    autoPong: false,
    maxPayload: opts.maxHttpBufferSize,
    maxFragments: opts.maxWebSocketFragments,
    maxBufferedChunks: opts.maxWebSocketBufferedChunks,
    perMessageDeflate: opts.perMessageDeflate,
    WebSocket: TransportWebSocket,
  });
}
