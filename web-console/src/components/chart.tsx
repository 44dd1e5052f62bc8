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

export function Chart({ metric, series, aggregated, spanMs, handle }: { metric: string; series: Series; aggregated: boolean; spanMs: number; handle: (h: ChartHandle | undefined) => void }) {
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
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: {
            time: true,
            range: (_u, _min, max) => {
              const end = Math.max(Date.now() / 1000, max ?? 0);
              return [end - spanMs / 1000, end];
            },
          },
        },
        // uPlot's default points: drawn where they are sparse (a lone bucket), not on dense lines.
        series: [{}, ...names.slice(0, ys.length).map((label, i) => ({ label, stroke: colors[i], width: i === 0 ? 2 : 1 }))],
        hooks: { setScale: [(u, key) => key === 'x' && (el.dataset.span = String(Math.round((u.scales.x!.max! - u.scales.x!.min!) * 1000)))] },
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
  }, [series, aggregated, metric, spanMs]);
  return <div class="chart" ref={box} data-metric={metric} data-range={spanMs} role="img" aria-label={`chart of ${metric}`} />;
}
