// Event-loop stalls seen from inside a process: Node's delay histogram (its
// max is the longest the loop was late) and a coarse ticker that counts the
// laps that came more than `stallMs` late, so a report can say "none over 1 s"
// with a count, not only a maximum. For the worst lap it also keeps how much
// CPU the process got meanwhile: a loop that was busy (CPU close to the wall
// time) is not the same as a process that waited for a core on a loaded
// machine (CPU far below it); the delay histogram cannot tell them apart.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** Starts watching; `report()` gives the figures since the start (or the last `reset()`). */
export function watchEventLoop({ stallMs = 1000, tickMs = 50 } = {}) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let stalls = 0;
  let worstLateMs = 0;
  let worstLapCpuMs = 0;
  // Monotonic clock in µs (the clock of V8's CPU profiles), to find the worst lap in a .cpuprofile.
  const monoUs = () => Number(process.hrtime.bigint() / 1000n);
  let lastUs = monoUs();
  let worstLapUs = [0, 0];
  const ticker = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const late = now - last - tickMs;
    if (late > worstLateMs) {
      worstLateMs = late;
      worstLapCpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      worstLapUs = [lastUs, monoUs()];
    }
    if (late > stallMs) stalls++;
    last = now;
    lastCpu = cpu;
    lastUs = monoUs();
  }, tickMs);
  ticker.unref();
  return {
    report: () => ({
      maxDelayMs: histogram.max / 1e6,
      p99DelayMs: histogram.percentile(99) / 1e6,
      stallsOverLimit: stalls,
      worstLateMs,
      /** CPU the process used during the worst lap (wall time tickMs + worstLateMs). */
      worstLapCpuMs,
      /** Start and end of the worst lap on the monotonic clock, µs (as the timestamps of a .cpuprofile). */
      worstLapUs,
      stallMs,
    }),
    reset: () => {
      histogram.reset();
      stalls = 0;
      worstLateMs = 0;
      worstLapCpuMs = 0;
      worstLapUs = [0, 0];
      last = performance.now();
      lastUs = monoUs();
      lastCpu = process.cpuUsage();
    },
  };
}
