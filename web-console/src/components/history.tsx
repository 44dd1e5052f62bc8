// A device's readings over a chosen range as a table, every metric a column
// (numbers, booleans, strings alike), with a CSV export of exactly what the
// table holds. At most one API page (10,000 readings): the range says so
// when it holds more.
import { useState } from 'preact/hooks';
import { api, type Reading } from '../api';
import { time } from '../format';

const PAGE = 10_000;
/** Rows drawn in the page; the CSV has them all. */
const SHOWN = 200;

/** `datetime-local` value of a time (local time, minutes). */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV of readings: seq, ISO time, then one column per metric. */
export function readingsCsv(readings: Reading[], metrics: string[]): string {
  const lines = [['seq', 'time', ...metrics].map(csvField).join(',')];
  for (const r of readings) lines.push([String(r.seq), new Date(r.ts).toISOString(), ...metrics.map((m) => cell(r.values[m]))].map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function History({ deviceId }: { deviceId: string }) {
  const now = Date.now();
  const [from, setFrom] = useState(localInput(now - 3600_000));
  const [to, setTo] = useState(localInput(now + 60_000));
  const [rows, setRows] = useState<Reading[] | undefined>();
  const [error, setError] = useState('');
  const metrics = rows ? [...new Set(rows.flatMap((r) => Object.keys(r.values)))].sort() : [];

  const load = async (e?: Event) => {
    e?.preventDefault();
    setError('');
    const f = new Date(from).getTime();
    const t = new Date(to).getTime();
    if (!(f < t)) return setError('"From" must be before "to".');
    try {
      const { items } = await api<{ items: Reading[] }>(`/api/devices/${encodeURIComponent(deviceId)}/telemetry?from=${f}&to=${t}&limit=${PAGE}`);
      setRows(items);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const exportCsv = () => {
    if (!rows) return;
    const blob = new Blob([readingsCsv(rows, metrics)], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${deviceId}-${from.replace(/[:T]/g, '')}-${to.replace(/[:T]/g, '')}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <div class="history">
      <form class="filters" onSubmit={(e) => void load(e)} aria-label="history range">
        <label>
          From <input id="history-from" type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          To <input id="history-to" type="datetime-local" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Show readings</button>
        {rows && rows.length > 0 && <button type="button" class="secondary" onClick={exportCsv}>Export CSV</button>}
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {rows && (
        <p class="muted" data-testid="history-count">
          {rows.length} reading{rows.length === 1 ? '' : 's'}
          {rows.length === PAGE ? ' (the first 10,000 of the range: narrow it for the rest)' : ''}
          {rows.length > SHOWN ? `; the newest ${SHOWN} shown, the CSV has them all` : ''}
        </p>
      )}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table class="history-table">
            <thead>
              <tr>
                <th scope="col">seq</th>
                <th scope="col">time</th>
                {metrics.map((m) => (
                  <th scope="col">{m}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.slice(-SHOWN).reverse().map((r) => (
                <tr>
                  <td>{r.seq}</td>
                  <td>{time(r.ts)}</td>
                  {metrics.map((m) => (
                    <td>{cell(r.values[m])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
