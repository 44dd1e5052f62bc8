export * from './packet.js';
export * from './packet-v3.js';
