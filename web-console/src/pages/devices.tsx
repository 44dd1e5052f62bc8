// Devices: every device, filtered by site, class, status and text, 50 to a
// page (1,000 devices stay smooth: only one page is in the DOM). For the
// rows shown, the transport and outbox depth not yet heard live are fetched
// once from the device's presence history and state.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { deviceStore, useDevices, type DeviceRow } from '../device-store';
import { ago } from '../format';
import { linkClick } from '../router';

const PAGE_SIZE = 50;
const looked = new Set<string>();

async function lookUp(rows: DeviceRow[]): Promise<void> {
  const todo = rows.filter((r) => !looked.has(r.id));
  for (const r of todo) looked.add(r.id);
  // A few at a time, so one page does not open 100 requests at once.
  for (let i = 0; i < todo.length; i += 8) {
    await Promise.all(
      todo.slice(i, i + 8).map(async (r) => {
        const id = encodeURIComponent(r.id);
        const [state, presence] = await Promise.all([
          api<{ attrs: Record<string, unknown> }>(`/api/devices/${id}/state`).catch(() => undefined),
          api<{ items: Array<{ transport?: string | null }> }>(`/api/devices/${id}/presence?limit=1`).catch(() => undefined),
        ]);
        const depth = state?.attrs?.['outbox.depth'];
        const transport = presence?.items?.[0]?.transport ?? undefined;
        deviceStore.learn(r.id, {
          ...(typeof depth === 'number' && r.outboxDepth === undefined ? { outboxDepth: depth } : {}),
          ...(transport && !r.transport ? { transport } : {}),
        });
      }),
    );
  }
}

export function DevicesPage() {
  const store = useDevices();
  const params = new URLSearchParams(location.search);
  const [site, setSite] = useState(params.get('site') ?? '');
  const [cls, setCls] = useState(params.get('class') ?? '');
  const [status, setStatus] = useState(params.get('status') ?? '');
  const [text, setText] = useState(params.get('q') ?? '');
  const [page, setPage] = useState(0);

  useEffect(() => {
    const q = new URLSearchParams();
    if (site) q.set('site', site);
    if (cls) q.set('class', cls);
    if (status) q.set('status', status);
    if (text) q.set('q', text);
    const s = q.toString();
    history.replaceState(null, '', `/devices${s ? '?' + s : ''}`);
    setPage(0);
  }, [site, cls, status, text]);

  const all = [...store.byId.values()];
  const sites = useMemo(() => [...new Set(all.map((d) => d.siteId))].sort(), [store.version, store.byId.size]);
  const classes = useMemo(() => [...new Set(all.map((d) => d.classId))].sort(), [store.version, store.byId.size]);
  const needle = text.trim().toLowerCase();
  const rows = all
    .filter((d) => (!site || d.siteId === site) && (!cls || d.classId === cls))
    .filter((d) => !status || (status === 'online' ? d.online : status === 'offline' ? !d.online && !d.disabled : d.disabled))
    .filter((d) => !needle || d.id.toLowerCase().includes(needle) || d.name.toLowerCase().includes(needle))
    .sort((a, b) => Number(b.online) - Number(a.online) || a.id.localeCompare(b.id));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  const shownKey = shown.map((r) => r.id).join(',');
  useEffect(() => {
    void lookUp(shown);
  }, [shownKey]);

  const select = (label: string, value: string, set: (v: string) => void, options: string[]) => (
    <label>
      {label}
      <select value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        <option value="">all</option>
        {options.map((o) => <option value={o}>{o}</option>)}
      </select>
    </label>
  );

  return (
    <section aria-labelledby="devices-title">
      <h1 id="devices-title">Devices</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        {select('Site', site, setSite, sites)}
        {select('Class', cls, setCls, classes)}
        {select('Status', status, setStatus, ['online', 'offline', 'disabled'])}
        <label>
          Search
          <input type="search" placeholder="id or name" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <p class="muted" aria-live="polite">{rows.length} of {store.byId.size} devices</p>
      <div class="table-wrap">
        <table class="devices">
          <thead>
            <tr><th scope="col">device</th><th scope="col">site</th><th scope="col">class</th><th scope="col">status</th><th scope="col">last seen</th><th scope="col">transport</th><th scope="col">outbox</th></tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr data-device={d.id} data-status={d.disabled ? 'disabled' : d.online ? 'online' : 'offline'}>
                <th scope="row">
                  <a href={`/devices/${encodeURIComponent(d.id)}`} onClick={linkClick}>{d.id}</a>
                  {d.name && d.name !== d.id && <span class="muted"> {d.name}</span>}
                </th>
                <td>{d.siteId}</td>
                <td>{d.classId}</td>
                <td><span class={`status ${d.disabled ? 'disabled' : d.online ? 'online' : 'offline'}`}>{d.disabled ? 'disabled' : d.online ? 'online' : 'offline'}</span></td>
                <td>{ago(d.lastSeen)}</td>
                <td>{d.transport ?? '—'}</td>
                <td class="num">{d.outboxDepth ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>Previous</button>
          <span>page {current + 1} of {pages}</span>
          <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>Next</button>
        </nav>
      )}
    </section>
  );
}
