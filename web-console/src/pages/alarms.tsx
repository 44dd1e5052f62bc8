// Alarms from the store: filter by state, severity and device; acknowledge
// and clear (operators); the cleared ones are the history. Live changes
// replace the rows they are about.
import { useEffect, useState } from 'preact/hooks';
import { api, can, type Alarm } from '../api';
import { ago, time } from '../format';
import { useLiveBatches } from '../hooks';
import { linkClick } from '../router';

const STATES = [
  { value: 'open', label: 'Open (active or acknowledged)' },
  { value: 'active', label: 'Active' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'cleared', label: 'Cleared (history)' },
  { value: '', label: 'All' },
];
const LIMIT = 200;

export function AlarmsPage() {
  const [state, setState] = useState('open');
  const [severity, setSeverity] = useState('');
  const [deviceId, setDeviceId] = useState('');
  const [alarms, setAlarms] = useState<Alarm[] | undefined>();
  const [error, setError] = useState('');

  const load = () => {
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (state) q.set('state', state);
    if (severity) q.set('severity', severity);
    if (deviceId.trim()) q.set('deviceId', deviceId.trim());
    api<{ items: Alarm[] }>(`/api/alarms?${q}`).then(
      (r) => {
        setAlarms(r.items);
        setError('');
      },
      (err) => setError((err as Error).message),
    );
  };
  useEffect(load, [state, severity, deviceId]);
  // A live change: reload the page of alarms (one request per batch, not per change).
  useLiveBatches(['alarm'], load);

  const act = async (a: Alarm, step: 'ack' | 'clear') => {
    try {
      await api(`/api/alarms/${a.id}/${step}`, { method: 'POST' });
      load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section aria-labelledby="alarms-title">
      <h1 id="alarms-title">Alarms</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          State{' '}
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            {STATES.map((s) => (
              <option value={s.value}>{s.label}</option>
            ))}
          </select>
        </label>
        <label>
          Severity{' '}
          <select value={severity} onChange={(e) => setSeverity((e.target as HTMLSelectElement).value)}>
            {['', 'info', 'warning', 'error', 'critical'].map((s) => (
              <option value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Device <input value={deviceId} placeholder="device id" onChange={(e) => setDeviceId((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {!alarms && !error && <p class="muted">Loading alarms…</p>}
      {alarms && alarms.length === 0 && <p class="muted">No alarms.</p>}
      {alarms && alarms.length > 0 && (
        <div class="table-wrap">
          <table class="alarms-table">
            <thead>
              <tr>
                <th scope="col">raised</th>
                <th scope="col">severity</th>
                <th scope="col">device</th>
                <th scope="col">message</th>
                <th scope="col">state</th>
                <th scope="col">by</th>
                {can('operator') && <th scope="col">actions</th>}
              </tr>
            </thead>
            <tbody>
              {alarms.map((a) => (
                <tr class={`sev-${a.severity}`} data-alarm-id={a.id}>
                  <td title={time(a.ts)}>{ago(a.ts)}</td>
                  <td><span class="badge">{a.severity}</span></td>
                  <td><a href={`/devices/${encodeURIComponent(a.deviceId)}`} onClick={linkClick}>{a.deviceId}</a></td>
                  <td>{a.message}</td>
                  <td data-testid="alarm-state">{a.state}</td>
                  <td class="muted">
                    {a.ackedBy ? `ack ${a.ackedBy}` : ''}
                    {a.clearedBy ? `${a.ackedBy ? ' · ' : ''}cleared ${a.clearedBy}` : ''}
                  </td>
                  {can('operator') && (
                    <td>
                      {a.state === 'active' && <button type="button" class="secondary" onClick={() => void act(a, 'ack')}>Acknowledge</button>}{' '}
                      {a.state !== 'cleared' && <button type="button" class="secondary" onClick={() => void act(a, 'clear')}>Clear</button>}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
