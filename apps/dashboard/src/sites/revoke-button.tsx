import { useState } from 'react';
import { SiteRevoked, type SiteView } from '@fedseg/protocol/web';
import type { Api } from '../api';

/**
 * Revokes a site (admins): it is disconnected at once and refused from then on. Asks once more in the page;
 * re-enrolling under the same name needs a new token.
 */
export function RevokeButton({
  api,
  site,
  onRevoked,
  onError,
}: {
  api: Api;
  site: Pick<SiteView, 'id' | 'name'>;
  onRevoked: () => void;
  onError: (message: string | null) => void;
}) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  async function revoke() {
    setBusy(true);
    onError(null);
    try {
      await api.post(`/sites/${site.id}/revoke`, SiteRevoked);
      onRevoked();
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  }
  if (!confirm)
    return (
      <button type="button" onClick={() => setConfirm(true)}>
        Revoke
      </button>
    );
  return (
    <span className="actions confirm" role="group" aria-label={`Revoke ${site.name}?`}>
      <button type="button" className="danger" disabled={busy} onClick={() => void revoke()} autoFocus>
        Confirm revoke
      </button>{' '}
      <button type="button" disabled={busy} onClick={() => setConfirm(false)}>
        Cancel
      </button>
    </span>
  );
}
