import { useEffect, useState } from 'react';
import { z } from 'zod';
import { StudyList, StudyView, type WhoAmI } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { when } from '../format';
import type { useLive } from '../live';
import { Empty, ErrorView, Loading } from '../states';
import { StudyActions } from '../study-actions';
import { useResource } from '../use-resource';

/** The few config fields the list shows; the full StudyConfig stays on the server. */
export const ConfigSummary = z.looseObject({
  rounds: z.int(),
  minSites: z.int().optional(),
  strategy: z.looseObject({ name: z.string() }).optional(),
});

export function roundsOf(study: StudyView): number | null {
  const c = ConfigSummary.safeParse(study.config);
  return c.success ? c.data.rounds : null;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function StudiesPage({ api, me, live }: { api: Api; me: WhoAmI; live: ReturnType<typeof useLive> }) {
  const [studies, reload] = useResource(() => api.get('/studies', StudyList), [api]);
  const [actionError, setActionError] = useState<string | null>(null);
  const canSteer = me.role !== 'site_admin';

  useEffect(
    () =>
      live.subscribe((e) => {
        if (e.type === 'study-status' || e.type === 'round-completed' || e.type === 'round-failed') reload();
      }),
    [live, reload],
  );

  return (
    <section aria-labelledby="studies-title">
      <div className="title-row">
        <h2 id="studies-title">Studies</h2>
        {canSteer && (
          <a className="button primary" href="#/studies/new">
            New study
          </a>
        )}
      </div>
      {actionError && <ErrorView message={actionError} />}
      {studies.state === 'loading' && <Loading what="studies" />}
      {studies.state === 'error' && <ErrorView message={studies.message} onRetry={reload} />}
      {studies.state === 'ready' && studies.data.length === 0 && (
        <Empty>
          No studies yet.{' '}
          {canSteer
            ? 'Create one with New study, or POST /studies (see /api/docs).'
            : 'A researcher creates them.'}
        </Empty>
      )}
      {studies.state === 'ready' && studies.data.length > 0 && (
        <table className="studies">
          <thead>
            <tr>
              <th scope="col">Study</th>
              <th scope="col">Status</th>
              <th scope="col">Rounds</th>
              <th scope="col">Strategy</th>
              <th scope="col">Created</th>
              {canSteer && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {studies.data.map((s) => {
              const c = ConfigSummary.safeParse(s.config);
              return (
                <tr key={s.id} data-study={s.id}>
                  <td>
                    <a href={`#/studies/${s.id}`}>{s.name}</a>
                  </td>
                  <td>
                    <StatusBadge status={s.status} />
                    {s.statusReason && <span className="reason"> {s.statusReason}</span>}
                  </td>
                  <td className="num">
                    {s.roundsDone} / {c.success ? c.data.rounds : '?'}
                  </td>
                  <td>{c.success ? (c.data.strategy?.name ?? 'fedavg') : '—'}</td>
                  <td>{when(s.createdAt)}</td>
                  {canSteer && (
                    <td>
                      <StudyActions api={api} study={s} onChanged={reload} onError={setActionError} />
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
