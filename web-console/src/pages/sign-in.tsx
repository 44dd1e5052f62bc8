// Sign-in with the admin token; the hub answers with an httpOnly session cookie.
import { useState } from 'preact/hooks';
import { ApiError, signIn } from '../api';

export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await signIn(token.trim());
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong admin token.' : `Sign-in failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card" aria-labelledby="signin-title">
        <h1 id="signin-title">sitehub console</h1>
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <p class="hint">Printed by the hub on its first start, kept in <code>&lt;dataDir&gt;/admin-token</code>.</p>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
