// A device's files: send one to it (streamed to the hub, then to the device
// on its connection) with its delivery progress, live; and what the device
// uploaded, images shown inline.
import { useEffect, useState } from 'preact/hooks';
import type { FileDeliveryRecord, FileRecord } from '@sitehub/protocol/iot';
import { api, can } from '../api';
import { ago } from '../format';
import { useLiveBatches } from '../hooks';
import type { FileMsg, UploadMsg } from '../live';

const MAX_SHOWN = 8;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

type Delivery = Omit<FileDeliveryRecord, 'deviceId'> & { name: string };

export function FilesPanel({ deviceId }: { deviceId: string }) {
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [uploads, setUploads] = useState<Array<Omit<FileRecord, 'deviceId'>>>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = encodeURIComponent(deviceId);
  const upsert = (list: Delivery[], d: Delivery) => {
    const i = list.findIndex((x) => x.fileId === d.fileId);
    if (i < 0) return [d, ...list].slice(0, MAX_SHOWN);
    if (list[i]!.updatedAt > d.updatedAt) return list;
    const copy = list.slice();
    copy[i] = d;
    return copy;
  };
  useEffect(() => {
    // Merged with what arrived live meanwhile: an upload stored after the list was read would otherwise vanish.
    api<{ items: FileRecord[] }>(`/api/files?direction=from_device&deviceId=${id}&limit=${MAX_SHOWN}`).then(
      (r) => setUploads((live) => [...live, ...r.items.filter((f) => !live.some((u) => u.id === f.id))].sort((a, b) => b.createdAt - a.createdAt).slice(0, MAX_SHOWN)),
      () => {},
    );
    api<{ items: FileRecord[] }>(`/api/files?direction=to_device&deviceId=${id}&limit=${MAX_SHOWN}`).then(async (r) => {
      const found: Delivery[] = [];
      for (const f of r.items) {
        const { deliveries: ds } = await api<{ deliveries: FileDeliveryRecord[] }>(`/api/files/${encodeURIComponent(f.id)}`);
        const mine = ds.find((d) => d.deviceId === deviceId);
        if (mine) found.push({ ...mine, name: f.name });
      }
      setDeliveries((old) => found.reduce(upsert, old));
    }, () => {});
  }, [deviceId]);
  useLiveBatches(['file', 'upload'], (batch) => {
    for (const { kind, msg } of batch) {
      if (msg.deviceId !== deviceId) continue;
      if (kind === 'file') setDeliveries((old) => upsert(old, msg as FileMsg));
      else setUploads((old) => [msg as UploadMsg, ...old.filter((u) => u.id !== (msg as UploadMsg).id)].slice(0, MAX_SHOWN));
    }
  });
  const send = async (e: Event) => {
    e.preventDefault();
    setError('');
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('file') as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return setError('Choose a file first.');
    const name = file.name.replace(/[^A-Za-z0-9_.+-]/g, '_').replace(/^[.]+/, '_').slice(0, 128);
    setBusy(true);
    try {
      // The browser streams the file; the hub writes it to disk as it comes.
      const res = await fetch(`/api/files?name=${encodeURIComponent(name)}&deviceId=${id}`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/octet-stream' }, body: file });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error ?? res.statusText);
      const mine = (body.deliveries as FileDeliveryRecord[]).find((d) => d.deviceId === deviceId);
      if (mine) setDeliveries((old) => upsert(old, { ...mine, name: body.file.name }));
      input.value = '';
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-testid="files">
      {can('admin') && (
        <form class="command-form" onSubmit={send} aria-label="Send a file to the device">
          <label>
            File for the device
            <input type="file" name="file" />
          </label>
          <button type="submit" disabled={busy}>{busy ? 'Uploading…' : 'Upload to device'}</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {deliveries.length > 0 && (
        <ul class="commands" aria-label="Deliveries">
          {deliveries.map((d) => (
            <li data-file={d.fileId} data-status={d.status}>
              <span class={`badge cmd-${d.status === 'done' ? 'acked' : d.status === 'failed' ? 'failed' : 'sent'}`}>{d.status}</span> <code>{d.name}</code>{' '}
              <progress max={d.chunks} value={d.confirmed} aria-label={`${d.name} progress`} /> <span class="muted">{Math.round((100 * d.confirmed) / Math.max(1, d.chunks))}% · {ago(d.updatedAt)}</span>
              {d.error && <div class="result error">error: {d.error}</div>}
            </li>
          ))}
        </ul>
      )}
      <h3>From the device</h3>
      {uploads.length === 0 ? <p class="muted">No uploads.</p> : (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li data-upload={u.id}>
              {IMAGE_TYPES.has(u.contentType) ? (
                <a href={`/api/files/${encodeURIComponent(u.id)}/content`} target="_blank" rel="noopener">
                  <img src={`/api/files/${encodeURIComponent(u.id)}/content`} alt={`${u.kind} ${u.name}`} style="max-width:100%" />
                </a>
              ) : (
                <a href={`/api/files/${encodeURIComponent(u.id)}/content`}>{u.name}</a>
              )}
              <div class="muted">{u.kind} · {u.name} · {u.size} bytes · {ago(u.createdAt)}</div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
