// Registers a device (creating its site and class if they are new) and shows
// its token once, inside a ready-to-copy agent configuration.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Device, type DeviceClass, type Site } from '../api';
import { deviceStore } from '../device-store';

import { CLASS_SOURCE as CLASS, ID_SOURCE as ID } from '@sitehub/protocol/iot';
const FIELDS = { siteId: { label: 'Site', pattern: ID }, classId: { label: 'Class', pattern: CLASS }, id: { label: 'Device id', pattern: ID } } as const;

/** The first field whose value the hub would refuse, checked the way the browser checks `pattern`. */
function invalidField(form: Record<keyof typeof FIELDS, string>): string | undefined {
  for (const [key, { label, pattern }] of Object.entries(FIELDS)) {
    const value = form[key as keyof typeof FIELDS].trim();
    if ((value || key !== 'id') && !new RegExp(`^(?:${pattern})$`, 'v').test(value)) return `${label}: “${value}” is not a valid ${label.toLowerCase()} (${pattern})`;
  }
  return undefined;
}

/** Runs one step of the registration; an error names the field it is about, not the request body's path. */
async function step<T>(label: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message.replace(/^body\/\w+ /, '')}`);
  }
}

export function RegisterDialog({ onClose }: { onClose: (deviceId?: string) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [sites, setSites] = useState<Site[]>([]);
  const [classes, setClasses] = useState<DeviceClass[]>([]);
  const [form, setForm] = useState({ siteId: '', classId: '', id: '', name: '' });
  const [error, setError] = useState('');
  const [done, setDone] = useState<{ device: Device; token: string } | undefined>();
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
    api<{ items: Site[] }>('/api/sites').then((r) => setSites(r.items), () => {});
    api<{ items: DeviceClass[] }>('/api/classes').then((r) => setClasses(r.items), () => {});
  }, []);

  const field = (key: keyof typeof form) => ({
    value: form[key],
    onInput: (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value }),
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    // Everything is checked before anything is created: a refusal halfway
    // would leave a new site or class behind.
    const invalid = invalidField(form);
    if (invalid) return setError(invalid);
    try {
      if (!sites.some((s) => s.id === form.siteId)) await step('Site', () => api('/api/sites', { method: 'POST', body: { id: form.siteId } }));
      if (!classes.some((c) => c.id === form.classId)) await step('Class', () => api('/api/classes', { method: 'POST', body: { id: form.classId } }));
      const body: Record<string, string> = { siteId: form.siteId, classId: form.classId };
      if (form.id.trim()) body.id = form.id.trim();
      if (form.name.trim()) body.name = form.name.trim();
      setDone(await step('Device', () => api<{ device: Device; token: string }>('/api/devices', { method: 'POST', body })));
      void deviceStore.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const config = done && JSON.stringify({ hub: { url: location.origin, deviceId: done.device.id, token: done.token, class: done.device.classId }, sources: [] }, null, 2);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(config!);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="register-title" onClose={() => onClose()} onCancel={() => onClose()}>
      <h2 id="register-title">Register a device</h2>
      {!done ? (
        <form onSubmit={submit}>
          <label>Site <input name="siteId" required pattern={ID} list="known-sites" autofocus {...field('siteId')} /></label>
          <datalist id="known-sites">{sites.map((s) => <option value={s.id} />)}</datalist>
          <label>Class <input name="classId" required pattern={CLASS} list="known-classes" {...field('classId')} /></label>
          <datalist id="known-classes">{classes.map((c) => <option value={c.id} />)}</datalist>
          <label>Device id <span class="muted">(optional, generated if empty)</span> <input name="deviceId" pattern={ID} {...field('id')} /></label>
          <label>Name <span class="muted">(optional)</span> <input name="name" maxLength={200} {...field('name')} /></label>
          <p class="hint">A new site or class is created with it.</p>
          {error && <p class="error" role="alert">{error}</p>}
          <div class="buttons">
            <button type="submit">Register</button>
            <button type="button" class="secondary" onClick={() => onClose()}>Cancel</button>
          </div>
        </form>
      ) : (
        <div>
          <p>
            Registered <strong data-testid="registered-id">{done.device.id}</strong>. Its token is shown <strong>only now</strong>: copy it into the
            agent's configuration (add <code>sources</code>, or run <code>sitehub-agent --config agent.json --simulate</code>).
          </p>
          <label for="new-token">Token</label>
          <input id="new-token" readOnly value={done.token} data-testid="device-token" onFocus={(e) => (e.target as HTMLInputElement).select()} />
          <label for="agent-config">agent.json</label>
          <textarea id="agent-config" readOnly rows={9} value={config} data-testid="agent-config" />
          <div class="buttons">
            <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy configuration'}</button>
            <button type="button" class="secondary" onClick={() => onClose(done.device.id)}>Done</button>
          </div>
        </div>
      )}
    </dialog>
  );
}
