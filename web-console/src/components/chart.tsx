// One metric's chart (uPlot). Points are appended in place and drawn at most
// every 250 ms; the oldest fall off past `maxPoints`. The time axis spans the
// chosen range, ending now: left to the data, a range holding one bucket (or
// none) would be stretched by uPlot to an arbitrary span.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  /** Times in seconds (uPlot's unit). */
  xs: number[];
  /** avg (or the raw value), then optional min and max. */
  ys: number[][];
}

export interface ChartHandle {
  append(tsMs: number, value: number): void;
}

const MAX_POINTS = 5000;

/**
 * `window` fixes the time axis to [from, to] (ms) instead of the span ending
 * now; `onZoom` gets the range a drag across the chart selects (the page
 * reloads the data for it, so a zoom shows finer data, not a stretched one).
 */
export function Chart({
  metric,
  series,
  aggregated,
  spanMs,
  window: fixed,
  onZoom,
  handle,
}: {
  metric: string;
  series: Series;
  aggregated: boolean;
  spanMs: number;
  window?: [number, number] | undefined;
  onZoom?: (fromMs: number, toMs: number) => void;
  handle: (h: ChartHandle | undefined) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const xs = series.xs.slice();
    const ys = series.ys.map((y) => y.slice());
    const names = aggregated ? ['avg', 'min', 'max'] : [metric];
    const colors = ['#2f7de1', '#9bb8dd', '#9bb8dd'];
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: 180,
        legend: { show: true },
        // A drag selects a time range (handed to onZoom), never the value axis.
        cursor: { drag: { x: onZoom !== undefined, y: false, setScale: false } },
        scales: {
          x: {
            time: true,
            range: (_u, _min, max) => {
              if (fixed) return [fixed[0] / 1000, fixed[1] / 1000];
              const end = Math.max(Date.now() / 1000, max ?? 0);
              return [end - spanMs / 1000, end];
            },
          },
        },
        // uPlot's default points: drawn where they are sparse (a lone bucket), not on dense lines.
        series: [{}, ...names.slice(0, ys.length).map((label, i) => ({ label, stroke: colors[i], width: i === 0 ? 2 : 1 }))],
        hooks: {
          setScale: [(u, key) => key === 'x' && (el.dataset.span = String(Math.round((u.scales.x!.max! - u.scales.x!.min!) * 1000)))],
          setSelect: [
            (u) => {
              if (!onZoom || u.select.width < 3) return;
              const from = u.posToVal(u.select.left, 'x') * 1000;
              const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              onZoom(Math.round(from), Math.round(to));
            },
          ],
        },
        axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: 60 }],
      },
      [xs, ...ys] as uPlot.AlignedData,
      el,
    );
    let dirty = false;
    const timer = setInterval(() => {
      if (!dirty) return;
      dirty = false;
      if (xs.length > MAX_POINTS) {
        const cut = xs.length - MAX_POINTS;
        xs.splice(0, cut);
        for (const y of ys) y.splice(0, cut);
      }
      plot.setData([xs, ...ys] as uPlot.AlignedData);
      el.dataset.points = String(xs.length);
    }, 250);
    el.dataset.points = String(xs.length);
    handle({
      append(tsMs, value) {
        const x = tsMs / 1000;
        if (xs.length && x < xs[xs.length - 1]!) return;
        // A window that ended in the past gets no live points.
        if (fixed && tsMs > fixed[1]) return;
        xs.push(x);
        for (const y of ys) y.push(value);
        dirty = true;
      },
    });
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: 180 }));
    resize.observe(el);
    return () => {
      handle(undefined);
      clearInterval(timer);
      resize.disconnect();
      plot.destroy();
    };
  }, [series, aggregated, metric, spanMs, fixed?.[0], fixed?.[1]]);
  return <div class="chart" ref={box} data-metric={metric} data-range={spanMs} role="img" aria-label={`chart of ${metric}`} />;
}
