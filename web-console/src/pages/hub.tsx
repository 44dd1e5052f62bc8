// The hub's own figures, read from /metrics every 2 s: connections by
// namespace and transport, message rates, store figures, refused
// connections and bad inputs by kind.
import { useRef, useState } from 'preact/hooks';
import { rate } from '../format';
import { usePoll } from '../hooks';
import { parseMetrics, total, type Sample } from '../metrics';

const POLL_MS = 2000;

function Table({ title, samples, label }: { title: string; samples: Sample[]; label: string[] }) {
  return (
    <div class="card">
      <h2>{title}</h2>
      {samples.length === 0 ? <p class="muted">none</p> : (
        <table>
          <thead><tr>{label.map((l) => <th scope="col">{l}</th>)}<th scope="col" class="num">value</th></tr></thead>
          <tbody>{samples.map((s) => <tr>{label.map((l) => <td>{s.labels[l]}</td>)}<td class="num">{s.value}</td></tr>)}</tbody>
        </table>
      )}
    </div>
  );
}

export function HubPage() {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [rates, setRates] = useState({ in: 0, out: 0, readings: 0 });
  const [error, setError] = useState('');
  const last = useRef<{ at: number; in: number; out: number; readings: number } | undefined>(undefined);
  usePoll(async () => {
    try {
      const res = await fetch('/metrics', { credentials: 'same-origin' });
      const s = parseMetrics(await res.text());
      const now = { at: performance.now(), in: total(s, 'sitehub_events_in_total'), out: total(s, 'sitehub_events_out_total'), readings: total(s, 'sitehub_readings_stored_total') };
      const prev = last.current;
      if (prev) {
        const secs = (now.at - prev.at) / 1000;
        setRates({ in: (now.in - prev.in) / secs, out: (now.out - prev.out) / secs, readings: (now.readings - prev.readings) / secs });
      }
      last.current = now;
      setSamples(s);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, POLL_MS);
  const named = (name: string) => samples.filter((s) => s.name === name && s.value !== 0);
  const one = (name: string) => total(samples, name);
  const commitCount = one('sitehub_store_commit_ms_count');
  return (
    <section aria-labelledby="hub-title">
      <h1 id="hub-title">Hub</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="stats">
        <div class="stat"><span class="big" data-testid="engine-clients">{one('sitehub_engine_clients')}</span> Engine.IO sessions</div>
        <div class="stat"><span class="big">{rate(rates.in)}</span> events in/s</div>
        <div class="stat"><span class="big">{rate(rates.out)}</span> events out/s</div>
        <div class="stat"><span class="big">{rate(rates.readings)}</span> readings stored/s</div>
        <div class="stat"><span class="big">{one('sitehub_readings_stored_total')}</span> readings stored</div>
        <div class="stat"><span class="big">{one('sitehub_store_queue_depth')}</span> store queue depth</div>
        <div class="stat"><span class="big">{commitCount ? (one('sitehub_store_commit_ms_sum') / commitCount).toFixed(2) : '—'}</span> ms mean commit</div>
        <div class="stat"><span class="big">{one('sitehub_store_failed_jobs_total')}</span> failed store jobs</div>
      </div>
      <div class="hub-grid">
        <Table title="Connections" samples={named('sitehub_connections')} label={['namespace', 'transport']} />
        <Table title="Refused connections" samples={named('sitehub_refused_connections_total')} label={['namespace', 'code']} />
        <Table title="Bad inputs (IoT)" samples={named('sitehub_bad_inputs_total')} label={['kind']} />
        <Table title="Bad inputs (Engine.IO)" samples={named('sitehub_engine_bad_inputs_total')} label={['kind']} />
        <Table title="Events in" samples={named('sitehub_events_in_total')} label={['namespace', 'event']} />
        <Table title="Events out" samples={named('sitehub_events_out_total')} label={['namespace', 'event']} />
      </div>
    </section>
  );
}
