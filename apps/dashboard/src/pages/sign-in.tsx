import { useState, type FormEvent } from 'react';
import { WhoAmI } from '@fedseg/protocol/web';
import { createApi } from '../api';

/** The only page an unauthenticated browser sees. The token is checked with GET /whoami before it is kept. */
export function SignIn({ onSignedIn }: { onSignedIn: (token: string, me: WhoAmI) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await createApi(token.trim()).get('/whoami', WhoAmI);
      onSignedIn(token.trim(), me);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>fedseg</h1>
      <p>Federated training of 3D segmentation models. Sign in with your API token.</p>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          placeholder="fsat_…"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p className="state error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p className="hint">
        An admin token is written to <code>&lt;FEDSEG_HOME&gt;/admin.token</code> on the coordinator&apos;s
        first start; <code>fedseg</code> issues more. The token stays in this tab only.
      </p>
    </main>
  );
}
