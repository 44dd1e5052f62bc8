/** @sitehub/protocol: the Engine.IO v4 and Socket.IO v5 wire codec. */
export * from './engine/index.js';
export { encodeBase64, decodeBase64 } from './base64.js';
export * from './socket/index.js';
