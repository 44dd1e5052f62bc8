// The part of a node-redis (`redis` package, v4 and later) client that the
// cluster adapter uses. Written as a structural interface so that any
// client of that family fits, and so that this is the one place to look if
// the client's API moves.

/** A listener of a subscription in buffer mode: the raw message, then the channel. */
export type BufferListener = (message: Buffer, channel: Buffer) => void;

/** The client that publishes and asks PUBSUB NUMSUB. */
export interface RedisPubClient {
  readonly isReady: boolean;
  publish(channel: string, message: string | Buffer): Promise<number>;
  sendCommand(args: string[]): Promise<unknown>;
  on(event: 'ready' | 'end' | 'error' | 'reconnecting', listener: (...args: any[]) => void): unknown;
  off(event: 'ready' | 'end' | 'error' | 'reconnecting', listener: (...args: any[]) => void): unknown;
}

/** The client in subscriber mode; node-redis subscribes again by itself after a reconnection. */
export interface RedisSubClient {
  readonly isReady: boolean;
  subscribe(channels: string | string[], listener: BufferListener, bufferMode: true): Promise<unknown>;
  unsubscribe(channels: string | string[], listener: BufferListener, bufferMode: true): Promise<unknown>;
  pSubscribe(patterns: string | string[], listener: BufferListener, bufferMode: true): Promise<unknown>;
  pUnsubscribe(patterns: string | string[], listener: BufferListener, bufferMode: true): Promise<unknown>;
  on(event: 'ready' | 'end' | 'error' | 'reconnecting', listener: (...args: any[]) => void): unknown;
  off(event: 'ready' | 'end' | 'error' | 'reconnecting', listener: (...args: any[]) => void): unknown;
}
