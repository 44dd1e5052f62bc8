// Device management for admins: rename, disable/enable, rotate the token
// (the new one is shown once), delete (after a confirmation). The hub checks the role; viewers and
// operators never see these buttons.
import { useState } from 'preact/hooks';
import { api, type Device } from '../api';
import { navigate } from '../router';

export function DeviceAdmin({ device, onChange }: { device: Device; onChange: (d: Device) => void }) {
  const [name, setName] = useState(device.name);
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const run = async (work: () => Promise<void>) => {
    setError('');
    try {
      await work();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const id = encodeURIComponent(device.id);
  return (
    <div class="device-admin">
      <form class="inline" onSubmit={(e) => { e.preventDefault(); void run(async () => onChange(await api<Device>(`/api/devices/${id}`, { method: 'PATCH', body: { name } }))); }}>
        <label for="device-name">Name</label>
        <input id="device-name" value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit" class="secondary">Rename</button>
      </form>
      <div class="row">
        <button type="button" class="secondary" onClick={() => void run(async () => onChange(await api<Device>(`/api/devices/${id}/${device.disabled ? 'enable' : 'disable'}`, { method: 'POST' })))}>
          {device.disabled ? 'Enable' : 'Disable'}
        </button>
        <button type="button" class="secondary" onClick={() => void run(async () => setToken((await api<{ token: string }>(`/api/devices/${id}/rotate-token`, { method: 'POST' })).token))}>
          Rotate token
        </button>
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (!confirm(`Delete device ${device.id}? Its token stops working; its history stays until retention removes it.`)) return;
            void run(async () => {
              await api(`/api/devices/${id}`, { method: 'DELETE' });
              navigate('/devices');
            });
          }}
        >
          Delete device
        </button>
      </div>
      {token && (
        <p class="token-once" role="status">
          New token (shown once): <code data-testid="rotated-token">{token}</code>
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
