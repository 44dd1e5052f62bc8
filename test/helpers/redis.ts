// A real redis-server (Debian's) for tests: a free 127.0.0.1 port, its own
// temp folder, no persistence, stop/start on the same port, stopped by PID.
// The implementation is redis-server.mjs, shared with the scripts and
// benchmarks (plain JavaScript); this module gives it its types.
import { startRedis as start, REDIS_SERVER as BIN } from './redis-server.mjs';

export const REDIS_SERVER: string = BIN;

/** A Redis under test. */
export interface TestRedis {
  port: number;
  url: string;
  /** The server's PID while it runs. */
  pid(): number | undefined;
  /** Kills the server (SIGKILL by default: nothing to save) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
  /** What the server logged (for failure messages). */
  log(): string;
}

/** Starts redis-server on a free loopback port; call stop() in afterAll. */
export function startRedis(): Promise<TestRedis> {
  return start();
}
