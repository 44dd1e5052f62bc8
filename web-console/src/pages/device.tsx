// One device: live charts per numeric metric (raw readings for the last
// 15 minutes, bucketed aggregates for longer ranges), current state, events
// and the command form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, can, type Bucket, type Device, type HubEvent, type Reading } from '../api';
import { Chart, type ChartHandle, type Series } from '../components/chart';
import { CommandForm } from '../components/command-form';
import { TwinPanel } from '../components/twin-panel';
import { FilesPanel } from '../components/files-panel';
import { DeviceAdmin } from '../components/device-admin';
import { History } from '../components/history';
import { ago, short, time } from '../format';
import { useLiveBatches } from '../hooks';
import type { StateMsg, TelemetryMsg } from '../live';
import { linkClick } from '../router';

const RANGES = [
  { label: '15 min', ms: 15 * 60_000 },
  { label: '6 h', ms: 6 * 3600_000 },
  { label: '7 days', ms: 7 * 86400_000 },
];
/** Ranges up to this are drawn from raw readings; longer ones from aggregates. */
const RAW_LIMIT_MS = 30 * 60_000;
/** Buckets per aggregated chart. */
const BUCKETS = 300;
const MAX_EVENTS = 30;
const MAX_METRICS = 12;

function numericKeys(readings: Reading[]): string[] {
  const keys = new Set<string>();
  for (const r of readings) for (const [k, v] of Object.entries(r.values)) if (typeof v === 'number') keys.add(k);
  return [...keys].sort().slice(0, MAX_METRICS);
}

type Loaded = { metrics: string[]; series: Map<string, Series>; aggregated: boolean; latest: Record<string, unknown> };

/** The last value of every metric (numeric or not) in readings oldest first. */
function latestValues(readings: Reading[]): Record<string, unknown> {
  const latest: Record<string, unknown> = {};
  for (const r of readings) Object.assign(latest, r.values);
  return latest;
}

/** `datetime-local` value of a time (local time, minutes). */
function localInput(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** Loads a window: the last `rangeMs` up to now, or a fixed [from, to]. */
async function loadSeries(deviceId: string, rangeMs: number, fixed?: [number, number]): Promise<Loaded> {
  const id = encodeURIComponent(deviceId);
  const to = fixed ? fixed[1] : Date.now();
  const from = fixed ? fixed[0] : to - rangeMs;
  rangeMs = to - from;
  // The raw window tells which metrics exist (and is the data for short ranges).
  const rawFrom = rangeMs <= RAW_LIMIT_MS ? from : to - RAW_LIMIT_MS;
  let { items } = await api<{ items: Reading[] }>(`/api/devices/${id}/telemetry?from=${rawFrom}&to=${fixed ? to : to + 60_000}&limit=10000`);
  if (items.length === 0 && rangeMs > RAW_LIMIT_MS) items = (await api<{ items: Reading[] }>(`/api/devices/${id}/telemetry?from=${from}&limit=50`)).items;
  const metrics = numericKeys(items);
  const series = new Map<string, Series>();
  if (rangeMs <= RAW_LIMIT_MS) {
    for (const m of metrics) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const r of items) {
        const v = r.values[m];
        if (typeof v === 'number') {
          xs.push(r.ts / 1000);
          ys.push(v);
        }
      }
      series.set(m, { xs, ys: [ys] });
    }
    return { metrics, series, aggregated: false, latest: latestValues(items) };
  }
  const interval = Math.max(1000, Math.ceil(rangeMs / BUCKETS / 1000) * 1000);
  await Promise.all(
    metrics.map(async (m) => {
      const { items: buckets } = await api<{ items: Bucket[] }>(`/api/devices/${id}/telemetry/aggregate?metric=${encodeURIComponent(m)}&interval=${interval}&from=${from}&to=${to}`);
      series.set(m, { xs: buckets.map((b) => b.ts / 1000), ys: [buckets.map((b) => b.avg), buckets.map((b) => b.min), buckets.map((b) => b.max)] });
    }),
  );
  return { metrics, series, aggregated: true, latest: latestValues(items) };
}

export function DevicePage({ deviceId }: { deviceId: string }) {
  const [device, setDevice] = useState<Device | undefined>();
  const [error, setError] = useState('');
  const [range, setRange] = useState(RANGES[0]!.ms);
  /** A custom or zoomed window [from, to] in ms; undefined: the preset range ending now. */
  const [fixed, setFixed] = useState<[number, number] | undefined>();
  const [customFrom, setCustomFrom] = useState(localInput(Date.now() - 3600_000));
  const [customTo, setCustomTo] = useState(localInput(Date.now()));
  const zoom = (from: number, to: number) => {
    if (to - from < 1000) return;
    setFixed([from, to]);
    setCustomFrom(localInput(from));
    setCustomTo(localInput(to));
  };
  const [data, setData] = useState<Loaded | undefined>();
  const [latest, setLatest] = useState<Record<string, unknown>>({});
  const [units, setUnits] = useState<Record<string, string>>({});
  const [state, setState] = useState<Record<string, unknown>>({});
  const [events, setEvents] = useState<HubEvent[]>([]);
  const charts = useRef(new Map<string, ChartHandle>());
  const id = encodeURIComponent(deviceId);

  useEffect(() => {
    setError('');
    api<Device>(`/api/devices/${id}`).then(setDevice, (err) => setError(err.message));
    api<{ attrs: Record<string, unknown> }>(`/api/devices/${id}/state`).then((s) => setState(s.attrs ?? {}), () => setState({}));
    api<{ items: HubEvent[] }>(`/api/devices/${id}/events?limit=${MAX_EVENTS}`).then((r) => setEvents(r.items), () => {});
  }, [deviceId]);
  useEffect(() => {
    setData(undefined);
    loadSeries(deviceId, range, fixed).then(
      (d) => {
        setData(d);
        setLatest(d.latest);
      },
      (err) => setError(err.message),
    );
  }, [deviceId, range, fixed?.[0], fixed?.[1]]);
  // Units come from the device's class (meta.units: metric -> unit).
  useEffect(() => {
    if (!device) return;
    api<{ meta?: { units?: Record<string, string> } }>(`/api/classes/${encodeURIComponent(device.classId)}`).then((c) => setUnits(c.meta?.units ?? {}), () => setUnits({}));
  }, [device?.classId]);

  useLiveBatches(['telemetry', 'state', 'event', 'presence'], (batch) => {
    let newMetric = false;
    for (const { kind, msg } of batch) {
      if (msg.deviceId !== deviceId) continue;
      if (kind === 'telemetry') {
        const readings = (msg as TelemetryMsg).readings;
        if (readings.length) setLatest((old) => ({ ...old, ...latestValues(readings as Reading[]) }));
        for (const r of readings) {
          for (const [k, v] of Object.entries(r.values)) {
            if (typeof v !== 'number') continue;
            const chart = charts.current.get(k);
            if (chart) chart.append(r.ts, v);
            else if (data && !data.metrics.includes(k) && data.metrics.length < MAX_METRICS) newMetric = true;
          }
        }
      } else if (kind === 'state') setState((msg as StateMsg).attrs);
      else if (kind === 'event') setEvents((old) => [msg as HubEvent, ...old].slice(0, MAX_EVENTS));
      else if (kind === 'presence') setDevice((d) => (d ? { ...d, online: msg.online, lastSeen: msg.ts } : d));
    }
    // A metric seen for the first time: reload so that it gets its chart.
    if (newMetric) loadSeries(deviceId, range, fixed).then(setData, () => {});
  });

  if (error && !device) return <p class="error" role="alert">{error} <a href="/devices" onClick={linkClick}>All devices</a></p>;
  return (
    <section aria-labelledby="device-title">
      <p class="crumbs"><a href="/devices" onClick={linkClick}>Devices</a> /</p>
      <h1 id="device-title">
        {deviceId}{' '}
        {device && <span class={`status ${device.disabled ? 'disabled' : device.online ? 'online' : 'offline'}`} data-testid="device-status">{device.disabled ? 'disabled' : device.online ? 'online' : 'offline'}</span>}
      </h1>
      {device && <p class="muted">{device.name && device.name !== device.id ? `${device.name} · ` : ''}site {device.siteId} · class {device.classId} · last seen {ago(device.lastSeen)}</p>}
      <div class="device-layout">
        <div class="charts">
          <div class="range" role="group" aria-label="Time range">
            {RANGES.map((r) => (
              <button type="button" class={!fixed && range === r.ms ? '' : 'secondary'} aria-pressed={!fixed && range === r.ms} onClick={() => { setFixed(undefined); setRange(r.ms); }}>{r.label}</button>
            ))}
          </div>
          <form
            class="filters custom-range"
            aria-label="custom range"
            onSubmit={(e) => {
              e.preventDefault();
              zoom(new Date(customFrom).getTime(), new Date(customTo).getTime());
            }}
          >
            <label>
              From <input id="range-from" type="datetime-local" value={customFrom} onInput={(e) => setCustomFrom((e.target as HTMLInputElement).value)} />
            </label>
            <label>
              To <input id="range-to" type="datetime-local" value={customTo} onInput={(e) => setCustomTo((e.target as HTMLInputElement).value)} />
            </label>
            <button type="submit" class="secondary">Show range</button>
            {fixed && <button type="button" class="secondary" onClick={() => setFixed(undefined)}>Back to live</button>}
          </form>
          <p class="muted hint">Drag across a chart to zoom into that time.</p>
          {!data && <p class="muted">Loading telemetry…</p>}
          {data && data.metrics.length === 0 && <p class="muted">No numeric telemetry yet; charts appear with the first readings.</p>}
          {data?.metrics.map((m) => (
            <figure class="card">
              <figcaption>
                {m}
                {units[m] ? ` (${units[m]})` : ''}
                {data.aggregated ? ' — avg, min, max per bucket' : ''}
                {latest[m] !== undefined && <span class="latest" data-testid={`latest-${m}`}> · latest {short(latest[m], 20)}{units[m] ? ` ${units[m]}` : ''}</span>}
              </figcaption>
              <Chart metric={m} series={data.series.get(m)!} aggregated={data.aggregated} spanMs={fixed ? fixed[1] - fixed[0] : range} window={fixed} onZoom={zoom} handle={(h) => (h ? charts.current.set(m, h) : charts.current.delete(m))} />
            </figure>
          ))}
          {data && Object.keys(latest).some((k) => !data.metrics.includes(k)) && (
            <div class="card">
              <h2>Other metrics</h2>
              <dl class="state" data-testid="other-metrics">
                {Object.keys(latest).filter((k) => !data.metrics.includes(k)).sort().map((k) => (<><dt>{k}</dt><dd>{short(latest[k], 80)}{units[k] ? ` ${units[k]}` : ''}</dd></>))}
              </dl>
            </div>
          )}
          <div class="card">
            <h2>History</h2>
            <History deviceId={deviceId} />
          </div>
        </div>
        <aside class="side">
          {can('operator') && (
            <div class="card">
              <h2>Command</h2>
              <CommandForm deviceId={deviceId} />
            </div>
          )}
          {can('admin') && device && (
            <div class="card">
              <h2>Manage</h2>
              <DeviceAdmin device={device} onChange={setDevice} />
            </div>
          )}
          {can('admin') && (
            <div class="card">
              <h2>Files</h2>
              <FilesPanel deviceId={deviceId} />
            </div>
          )}
          <div class="card">
            <h2>Twin</h2>
            <TwinPanel deviceId={deviceId} />
          </div>
          <div class="card">
            <h2>State</h2>
            {Object.keys(state).length === 0 ? <p class="muted">No state reported.</p> : (
              <dl class="state">
                {Object.entries(state).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (<><dt>{k}</dt><dd>{short(v, 80)}</dd></>))}
              </dl>
            )}
          </div>
          <div class="card">
            <h2>Events</h2>
            {events.length === 0 ? <p class="muted">No events.</p> : (
              <ul class="events">
                {events.map((e) => (
                  <li class={`sev-${e.severity}`}><span class="badge">{e.severity}</span> <span class="muted">{time(e.ts)} {e.kind}</span> {e.message}</li>
                ))}
              </ul>
            )}
          </div>
        </aside>
      </div>
    </section>
  );
}
