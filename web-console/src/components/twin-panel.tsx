// A device's twin: desired and reported documents with their versions, live,
// and a form that merges desired properties (JSON merge patch) based on the
// version shown, so a change made meanwhile by someone else is refused
// rather than overwritten.
import { useEffect, useState } from 'preact/hooks';
import type { TwinDocument } from '@sitehub/protocol/iot';
import { api, can } from '../api';
import { ago } from '../format';
import { useLiveBatches } from '../hooks';
import { setDesired, type TwinMsg } from '../live';

export function TwinPanel({ deviceId }: { deviceId: string }) {
  const [twin, setTwin] = useState<Omit<TwinDocument, 'deviceId'> | undefined>();
  const [patch, setPatch] = useState('{}');
  const [error, setError] = useState('');
  useEffect(() => {
    api<TwinDocument>(`/api/devices/${encodeURIComponent(deviceId)}/twin`).then(setTwin, () => {});
  }, [deviceId]);
  useLiveBatches(['twin'], (batch) => {
    for (const { msg } of batch) {
      const t = msg as TwinMsg;
      if (t.deviceId === deviceId) setTwin((old) => (old && old.updatedAt > t.updatedAt ? old : t));
    }
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    let parsed: unknown;
    try {
      parsed = JSON.parse(patch);
    } catch {
      return setError('Desired properties must be a JSON object, e.g. {"batch": {"intervalMs": 5000}}.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return setError('Desired properties must be a JSON object.');
    try {
      setTwin(await setDesired(deviceId, parsed as Record<string, unknown>, twin?.desiredVersion ?? 0));
    } catch (err) {
      setError((err as Error).message);
      // Refused for a version someone else moved on: show the document as it is now, to start again from.
      api<TwinDocument>(`/api/devices/${encodeURIComponent(deviceId)}/twin`).then(setTwin, () => {});
    }
  };
  const inSync = twin && twin.desiredVersion > 0 && twin.appliedVersion === twin.desiredVersion;
  return (
    <div data-testid="twin">
      {twin && (
        <>
          <p class="muted" data-testid="twin-versions">
            desired v{twin.desiredVersion} · applied v{twin.appliedVersion} · reported v{twin.reportedVersion}
            {twin.desiredVersion > 0 && (inSync ? ' · in sync' : ' · waiting for the device')}
            {twin.updatedAt > 0 && ` · ${ago(twin.updatedAt)}`}
          </p>
          <h3>Desired</h3>
          <pre class="json" data-testid="twin-desired">{JSON.stringify(twin.desired, null, 2)}</pre>
          <h3>Reported</h3>
          <pre class="json" data-testid="twin-reported">{JSON.stringify(twin.reported, null, 2)}</pre>
        </>
      )}
      {can('operator') && (
        <form class="command-form" onSubmit={submit} aria-label="Set desired properties">
          <label>
            Desired properties (JSON merge patch; null removes)
            <textarea name="desired" rows={2} value={patch} onInput={(e) => setPatch((e.target as HTMLTextAreaElement).value)} />
          </label>
          <button type="submit">Set</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
