// Sites and classes: the lists for everyone; for admins, forms to add them,
// rename a site, and set a class's units (meta.units, shown on the charts).
import { useEffect, useState } from 'preact/hooks';
import { api, can } from '../api';

interface SiteRow {
  id: string;
  name: string;
}
interface ClassRow {
  id: string;
  name: string;
  meta: { units?: Record<string, string> };
}

/** `temp=°C, rh=%` <-> { temp: '°C', rh: '%' } */
function unitsText(units: Record<string, string> | undefined): string {
  return Object.entries(units ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
}
function parseUnits(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function SiteItem({ site, onSaved, onError }: { site: SiteRow; onSaved: () => void; onError: (m: string) => void }) {
  const [name, setName] = useState(site.name);
  const save = (e: Event) => {
    e.preventDefault();
    api(`/api/sites/${encodeURIComponent(site.id)}`, { method: 'PATCH', body: { name } }).then(onSaved, (err) => onError((err as Error).message));
  };
  return (
    <li data-site={site.id}>
      <code>{site.id}</code>{' '}
      {can('admin') ? (
        <form class="inline" onSubmit={save}>
          <input aria-label={`name of site ${site.id}`} value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          <button type="submit" class="secondary">Rename</button>
        </form>
      ) : (
        site.name
      )}
    </li>
  );
}

function ClassItem({ cls, onSaved, onError }: { cls: ClassRow; onSaved: () => void; onError: (m: string) => void }) {
  const [units, setUnits] = useState(unitsText(cls.meta?.units));
  const save = (e: Event) => {
    e.preventDefault();
    api(`/api/classes/${encodeURIComponent(cls.id)}`, { method: 'PATCH', body: { meta: { ...cls.meta, units: parseUnits(units) } } }).then(onSaved, (err) => onError((err as Error).message));
  };
  return (
    <li data-class={cls.id}>
      <code>{cls.id}</code> {cls.name !== cls.id ? cls.name : ''}{' '}
      {can('admin') ? (
        <form class="inline" onSubmit={save}>
          <input aria-label={`units of class ${cls.id}`} placeholder="temp=°C, rh=%" value={units} onInput={(e) => setUnits((e.target as HTMLInputElement).value)} />
          <button type="submit" class="secondary">Save units</button>
        </form>
      ) : (
        <span class="muted">{unitsText(cls.meta?.units)}</span>
      )}
    </li>
  );
}

export function RegistryPage() {
  const [sites, setSites] = useState<SiteRow[]>([]);
  const [classes, setClasses] = useState<ClassRow[]>([]);
  const [error, setError] = useState('');
  const [newSite, setNewSite] = useState({ id: '', name: '' });
  const [newClass, setNewClass] = useState('');
  const load = () => {
    api<{ items: SiteRow[] }>('/api/sites').then((r) => setSites(r.items), (err) => setError((err as Error).message));
    api<{ items: ClassRow[] }>('/api/classes').then((r) => setClasses(r.items), (err) => setError((err as Error).message));
  };
  useEffect(load, []);
  const create = (path: string, body: object) => (e: Event) => {
    e.preventDefault();
    setError('');
    api(path, { method: 'POST', body }).then(load, (err) => setError((err as Error).message));
  };

  return (
    <section aria-labelledby="registry-title">
      <h1 id="registry-title">Sites and classes</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="registry">
        <div class="card">
          <h2>Sites</h2>
          <ul class="plain">
            {sites.map((s) => (
              <SiteItem key={s.id} site={s} onSaved={load} onError={setError} />
            ))}
          </ul>
          {can('admin') && (
            <form class="inline" onSubmit={create('/api/sites', { id: newSite.id, ...(newSite.name && { name: newSite.name }) })}>
              <input id="new-site-id" aria-label="new site id" placeholder="site id" required value={newSite.id} onInput={(e) => setNewSite({ ...newSite, id: (e.target as HTMLInputElement).value })} />
              <input id="new-site-name" aria-label="new site name" placeholder="name" value={newSite.name} onInput={(e) => setNewSite({ ...newSite, name: (e.target as HTMLInputElement).value })} />
              <button type="submit">Add site</button>
            </form>
          )}
        </div>
        <div class="card">
          <h2>Classes</h2>
          <ul class="plain">
            {classes.map((c) => (
              <ClassItem key={c.id} cls={c} onSaved={load} onError={setError} />
            ))}
          </ul>
          {can('admin') && (
            <form class="inline" onSubmit={create('/api/classes', { id: newClass })}>
              <input id="new-class-id" aria-label="new class id" placeholder="class id" required value={newClass} onInput={(e) => setNewClass((e.target as HTMLInputElement).value)} />
              <button type="submit">Add class</button>
            </form>
          )}
        </div>
      </div>
    </section>
  );
}
