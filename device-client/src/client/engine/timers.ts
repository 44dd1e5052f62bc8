// The timers the client sets for itself (connect and ping timeouts,
// reconnection delays). With `useNativeTimers` (socket.io-client's option)
// they use the setTimeout/clearTimeout this module found when it was loaded,
// so a fake clock installed later (sinon, vitest's fake timers) in the
// application or its tests does not drive the connection; otherwise the
// global ones at the time of the call.
const nativeSetTimeout = setTimeout;
const nativeClearTimeout = clearTimeout;

/** Options that choose the timer functions. */
export interface TimerChoice {
  useNativeTimers?: boolean;
}

/** setTimeout, native with `useNativeTimers`. */
export function setTimer(opts: TimerChoice, fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  return (opts.useNativeTimers ? nativeSetTimeout : setTimeout)(fn, ms);
}

/** clearTimeout for a handle from setTimer with the same options. */
export function clearTimer(opts: TimerChoice, handle: ReturnType<typeof setTimeout> | undefined): void {
  (opts.useNativeTimers ? nativeClearTimeout : clearTimeout)(handle);
}
