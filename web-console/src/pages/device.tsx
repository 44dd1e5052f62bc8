// One device: live charts per numeric metric (raw readings for the last
// 15 minutes, bucketed aggregates for longer ranges), current state, events
// and the command form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, can, type Bucket, type Device, type HubEvent, type Reading } from '../api';
import { Chart, type ChartHandle, type Series } from '../components/chart';
import { CommandForm } from '../components/command-form';
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

async function loadSeries(deviceId: string, rangeMs: number): Promise<Loaded> {
  const id = encodeURIComponent(deviceId);
  const to = Date.now();
  const from = to - rangeMs;
  // The raw window tells which metrics exist (and is the data for short ranges).
  const rawFrom = rangeMs <= RAW_LIMIT_MS ? from : to - RAW_LIMIT_MS;
  let { items } = await api<{ items: Reading[] }>(`/api/devices/${id}/telemetry?from=${rawFrom}&to=${to + 60_000}&limit=10000`);
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
    loadSeries(deviceId, range).then(
      (d) => {
        setData(d);
        setLatest(d.latest);
      },
      (err) => setError(err.message),
    );
  }, [deviceId, range]);
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
    if (newMetric) loadSeries(deviceId, range).then(setData, () => {});
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
              <button type="button" class={range === r.ms ? '' : 'secondary'} aria-pressed={range === r.ms} onClick={() => setRange(r.ms)}>{r.label}</button>
            ))}
          </div>
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
              <Chart metric={m} series={data.series.get(m)!} aggregated={data.aggregated} spanMs={range} handle={(h) => (h ? charts.current.set(m, h) : charts.current.delete(m))} />
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
