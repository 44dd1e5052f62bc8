// Small hooks shared by the pages.
import { useEffect, useRef, useState } from 'preact/hooks';
import { live, type LiveEvents, type LiveKind } from './live';

/** Collects live messages of `kinds` and hands them to `apply` at most every `ms`, in one batch. */
export function useLiveBatches(kinds: LiveKind[], apply: (batch: Array<{ kind: LiveKind; msg: any }>) => void, ms = 250): void {
  const applyRef = useRef(apply);
  applyRef.current = apply;
  useEffect(() => {
    let pending: Array<{ kind: LiveKind; msg: any }> = [];
    const offs = kinds.map((kind) => live.on(kind, (msg: LiveEvents[typeof kind]) => pending.push({ kind, msg })));
    const timer = setInterval(() => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      applyRef.current(batch);
    }, ms);
    return () => {
      clearInterval(timer);
      for (const off of offs) off();
    };
  }, [kinds.join(','), ms]);
}

/** Whether the /console socket is connected. */
export function useLiveStatus(): boolean {
  const [connected, setConnected] = useState(live.connected);
  useEffect(() => live.onStatus(setConnected), []);
  return connected;
}

/** Re-runs `load` every `ms` while mounted. */
export function usePoll(load: () => void | Promise<void>, ms: number, deps: unknown[] = []): void {
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), ms);
    return () => clearInterval(timer);
  }, deps);
}
