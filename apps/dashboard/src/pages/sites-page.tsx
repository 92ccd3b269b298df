import { useEffect } from 'react';
import { SiteList } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { when } from '../format';
import type { useLive } from '../live';
import { Empty, ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';

/** Sites: online or not, compute backend, last contact. Reloaded when a round starts or ends. */
export function SitesPage({ api, live }: { api: Api; live: ReturnType<typeof useLive> }) {
  const [sites, reload] = useResource(() => api.get('/sites', SiteList), [api]);
  useEffect(
    () =>
      live.subscribe((e) => {
        if (e.type === 'round-started' || e.type === 'round-completed') reload();
      }),
    [live, reload],
  );
  return (
    <section aria-labelledby="sites-title">
      <h2 id="sites-title">Sites</h2>
      {sites.state === 'loading' && <Loading what="sites" />}
      {sites.state === 'error' && <ErrorView message={sites.message} onRetry={reload} />}
      {sites.state === 'ready' && sites.data.length === 0 && (
        <Empty>No sites yet. An admin issues enrollment tokens with the fedseg CLI.</Empty>
      )}
      {sites.state === 'ready' && sites.data.length > 0 && (
        <table className="sites">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">State</th>
              <th scope="col">Backend</th>
              <th scope="col">Busy studies</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {sites.data.map((s) => (
              <tr key={s.id}>
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
                <td className="num">
                  {s.busyStudies.length} / {s.maxConcurrentStudies}
                </td>
                <td className="nowrap">{when(s.lastSeenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
