export { PacketType, RESERVED_EVENTS, type Packet } from './packet.js';
export { hasBinary } from './binary.js';
export { Encoder } from './encoder.js';
export { Decoder, DEFAULT_MAX_ATTACHMENTS, type DecoderOptions } from './decoder.js';
export { DecodeError } from './decode-error.js';
export { LiteDecoder, LiteEncoder } from './lite.js';
