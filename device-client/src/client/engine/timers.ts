// The timers the client sets for itself (connect and ping timeouts,
// reconnection delays). With `useNativeTimers` (socket.io-client's option)
// they use the setTimeout/clearTimeout this module found when it was loaded,
// so a fake clock installed later (sinon, vitest's fake timers) in the
// application or its tests does not drive the connection; otherwise the
// global ones at the time of the call.
const nativeSetTimeout = globalThis.setTimeout;
const nativeClearTimeout = globalThis.clearTimeout;

/** The timer handle of setTimeout (a Timeout in Node, a number in browsers). */
export type TimerHandle = ReturnType<typeof setTimeout>;

/** Options that choose the timer functions. */
export interface TimerChoice {
  useNativeTimers?: boolean;
}

/** setTimeout, native with `useNativeTimers`. */
export function setTimer(opts: TimerChoice, fn: () => void, ms: number): TimerHandle {
  return opts.useNativeTimers ? nativeSetTimeout.call(globalThis, fn, ms) : setTimeout(fn, ms);
}

/** clearTimeout for a handle from setTimer with the same options. */
export function clearTimer(opts: TimerChoice, handle: TimerHandle | undefined): void {
  if (opts.useNativeTimers) nativeClearTimeout.call(globalThis, handle);
  else clearTimeout(handle);
}
