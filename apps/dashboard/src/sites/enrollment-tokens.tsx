import { useState, type FormEvent } from 'react';
import { EnrollmentTokenIssued, EnrollmentTokenList } from '@fedseg/protocol/web';
import { validationIssues, type Api } from '../api';
import { when } from '../format';
import { Empty, ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';

/**
 * Admins issue one-time enrollment tokens for a site name and see which are pending, used or expired. A
 * token is shown once, right after it is issued (the coordinator keeps only its hash).
 */
export function EnrollmentTokens({ api, onIssued }: { api: Api; onIssued: () => void }) {
  const [tokens, reload] = useResource(() => api.get('/enrollment-tokens', EnrollmentTokenList), [api]);
  const [siteName, setSiteName] = useState('');
  const [hours, setHours] = useState('24');
  const [issued, setIssued] = useState<EnrollmentTokenIssued | null>(null);
  const [errors, setErrors] = useState<{ siteName?: string; ttlMs?: string; other?: string }>({});
  const [busy, setBusy] = useState(false);

  async function issue(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setIssued(null);
    try {
      const ttlMs = hours.trim() === '' ? undefined : Math.round(Number(hours) * 3_600_000);
      setIssued(
        await api.post('/enrollment-tokens', EnrollmentTokenIssued, { siteName: siteName.trim(), ttlMs }),
      );
      setSiteName('');
      reload();
      onIssued();
    } catch (err) {
      setErrors(fieldErrors(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="tokens-title">
      <h3 id="tokens-title">Enrollment tokens</h3>
      <form
        className="inline-form"
        onSubmit={(e) => void issue(e)}
        noValidate
        aria-label="Issue an enrollment token"
      >
        <div className={`field${errors.siteName ? ' invalid' : ''}`}>
          <label htmlFor="t-site">Site name</label>
          <input
            id="t-site"
            value={siteName}
            onChange={(e) => setSiteName(e.target.value)}
            aria-invalid={errors.siteName ? true : undefined}
            aria-describedby="t-site-msg"
            autoComplete="off"
          />
          <span id="t-site-msg" className="field-error" role={errors.siteName ? 'alert' : undefined}>
            {errors.siteName}
          </span>
        </div>
        <div className={`field${errors.ttlMs ? ' invalid' : ''}`}>
          <label htmlFor="t-hours">Valid for (hours)</label>
          <input
            id="t-hours"
            inputMode="decimal"
            value={hours}
            onChange={(e) => setHours(e.target.value)}
            aria-invalid={errors.ttlMs ? true : undefined}
            aria-describedby="t-hours-msg"
          />
          <span id="t-hours-msg" className="field-error" role={errors.ttlMs ? 'alert' : undefined}>
            {errors.ttlMs}
          </span>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Issue token
        </button>
      </form>
      {errors.other && <ErrorView message={errors.other} />}
      {issued && (
        <div className="issued" role="status">
          <p>
            Token for <strong>{issued.siteName}</strong>, usable once until {when(issued.expiresAt)}. It is
            shown only now; give it to the site&apos;s admin, who runs:
          </p>
          <pre>
            <code>
              fedseg-agent enroll --coordinator {location.origin} --site {issued.siteName} --token{' '}
              {issued.token}
            </code>
          </pre>
        </div>
      )}
      {tokens.state === 'loading' && <Loading what="enrollment tokens" />}
      {tokens.state === 'error' && <ErrorView message={tokens.message} onRetry={reload} />}
      {tokens.state === 'ready' && tokens.data.length === 0 && (
        <Empty>No enrollment tokens issued yet.</Empty>
      )}
      {tokens.state === 'ready' && tokens.data.length > 0 && (
        <table className="tokens">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">State</th>
              <th scope="col">Issued</th>
              <th scope="col">Expires</th>
              <th scope="col">Used</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id} data-token-site={t.siteName}>
                <td>{t.siteName}</td>
                <td>
                  <span className={`badge token-${t.state}`}>{t.state}</span>
                </td>
                <td className="nowrap">{when(t.issuedAt)}</td>
                <td className="nowrap">{when(t.expiresAt)}</td>
                <td className="nowrap">{when(t.usedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The server's 400 issues on the two fields; anything else (a site enrolled already, …) apart. */
function fieldErrors(err: unknown): { siteName?: string; ttlMs?: string; other?: string } {
  const out: { siteName?: string; ttlMs?: string; other?: string } = {};
  for (const i of validationIssues(err))
    if (i.path === 'siteName' || i.path === 'ttlMs') out[i.path] = i.message;
  if (Object.keys(out).length > 0) return out;
  return { other: err instanceof Error ? err.message : String(err) };
}
