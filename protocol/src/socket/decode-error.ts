/** Thrown by `Decoder.add` when its input breaks a Socket.IO v5 decoding rule. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}
