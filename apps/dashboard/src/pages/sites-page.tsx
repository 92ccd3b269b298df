import { useEffect, useState } from 'react';
import { SiteList, type WhoAmI } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { when } from '../format';
import type { useLive } from '../live';
import { EnrollmentTokens } from '../sites/enrollment-tokens';
import { PlanApprovals } from '../sites/plan-approvals';
import { RevokeButton } from '../sites/revoke-button';
import { Empty, ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';

/**
 * Sites: online or not, compute backend, case counts, last contact; which plan each approved; for admins,
 * enrollment tokens and revocation. Reloaded when a round starts or ends.
 */
export function SitesPage({ api, me, live }: { api: Api; me: WhoAmI; live: ReturnType<typeof useLive> }) {
  const [sites, reload] = useResource(() => api.get('/sites', SiteList), [api]);
  const [approvalsKey, setApprovalsKey] = useState(0);
  const [actionError, setActionError] = useState<string | null>(null);
  const admin = me.role === 'admin';
  useEffect(
    () =>
      live.subscribe((e) => {
        if (e.type === 'round-started' || e.type === 'round-completed' || e.type === 'study-status') {
          reload();
          setApprovalsKey((k) => k + 1);
        }
      }),
    [live, reload],
  );
  return (
    <section aria-labelledby="sites-title">
      <h2 id="sites-title">Sites</h2>
      {actionError && <ErrorView message={actionError} />}
      {sites.state === 'loading' && <Loading what="sites" />}
      {sites.state === 'error' && <ErrorView message={sites.message} onRetry={reload} />}
      {sites.state === 'ready' && sites.data.length === 0 && (
        <Empty>No sites yet.{admin ? ' Issue an enrollment token below.' : ' An admin enrolls them.'}</Empty>
      )}
      {sites.state === 'ready' && sites.data.length > 0 && (
        <table className="sites">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">State</th>
              <th scope="col">Backend</th>
              <th scope="col">Agent</th>
              <th scope="col">Cases (train / val)</th>
              <th scope="col">Busy studies</th>
              <th scope="col">Last seen</th>
              {admin && <th scope="col">Admin</th>}
            </tr>
          </thead>
          <tbody>
            {sites.data.map((s) => (
              <tr key={s.id} data-site={s.name}>
                <td className="nowrap">{s.name}</td>
                <td>
                  {s.revokedAt ? (
                    <span className="badge status-failed">revoked</span>
                  ) : !s.enrolled ? (
                    <span className="badge status-draft">not enrolled</span>
                  ) : (
                    <span className={`badge ${s.online ? 'status-running' : 'status-paused'}`}>
                      {s.online ? 'online' : 'offline'}
                    </span>
                  )}
                </td>
                <td>
                  {s.backend ? (
                    <>
                      <strong>{s.backend.name}</strong>
                      {s.backend.adapter && <div className="reason">{s.backend.adapter}</div>}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="nowrap agent">{s.agentVersion ?? '—'}</td>
                <td className="num dataset">
                  {s.dataset ? (
                    <span
                      title={
                        s.dataset.source === 'hello'
                          ? 'as the connected agent announced it'
                          : `as last reported in a round, ${when(s.dataset.reportedAt)}`
                      }
                    >
                      {s.dataset.trainCases ?? '—'} / {s.dataset.valCases ?? '—'}
                    </span>
                  ) : (
                    <span className="reason">not connected yet</span>
                  )}
                </td>
                <td className="num">
                  {s.busyStudies.length} / {s.maxConcurrentStudies}
                </td>
                <td className="nowrap">{when(s.lastSeenAt)}</td>
                {admin && (
                  <td>
                    {s.enrolled && !s.revokedAt && (
                      <RevokeButton api={api} site={s} onRevoked={reload} onError={setActionError} />
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {sites.state === 'ready' && <PlanApprovals api={api} sites={sites.data} reloadKey={approvalsKey} />}
      {admin && <EnrollmentTokens api={api} onIssued={reload} />}
    </section>
  );
}
