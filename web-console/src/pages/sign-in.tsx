// Sign-in with the admin token or an account's name and password; the hub
// answers with an httpOnly session cookie.
import { useState } from 'preact/hooks';
import { ApiError, signIn, signInAccount } from '../api';

export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [mode, setMode] = useState<'token' | 'account'>('token');
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      if (mode === 'token') await signIn(token.trim());
      else await signInAccount(name.trim(), password);
      onSignedIn();
    } catch (err) {
      const wrong = mode === 'token' ? 'Wrong admin token.' : 'Wrong name or password.';
      setError(err instanceof ApiError && err.status === 401 ? wrong : `Sign-in failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card" aria-labelledby="signin-title">
        <h1 id="signin-title">sitehub console</h1>
        {mode === 'token' ? (
          <>
            <label for="token">Admin token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
            <p class="hint">Printed by the hub on its first start, kept in <code>&lt;dataDir&gt;/admin-token</code>.</p>
          </>
        ) : (
          <>
            <label for="account-name">Name</label>
            <input id="account-name" name="username" autocomplete="username" required autofocus value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            <label for="account-password">Password</label>
            <input id="account-password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
          </>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <button type="button" class="secondary" onClick={() => { setMode(mode === 'token' ? 'account' : 'token'); setError(''); }}>
          {mode === 'token' ? 'Sign in with an account' : 'Sign in with the admin token'}
        </button>
      </form>
    </main>
  );
}
