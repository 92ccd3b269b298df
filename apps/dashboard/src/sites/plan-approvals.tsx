import { ApprovalsReply, StudyList, type SiteView, type StudyView } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { when } from '../format';
import { Empty, ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';

type StudyApprovals = { study: StudyView; approvals: ApprovalsReply };

/** Studies that may still train: their plan approvals matter. */
const OPEN = new Set(['draft', 'running', 'paused']);

/**
 * Which plan hash each site approved, per open study: a site trains only for the plan its admin approved
 * (by hash), so a changed plan shows here as 'older plan' until the site approves again.
 */
export function PlanApprovals({
  api,
  sites,
  reloadKey,
}: {
  api: Api;
  sites: readonly SiteView[];
  /** Changes when a live event may have changed approvals (a study started, a round began). */
  reloadKey: number;
}) {
  const [rows, reload] = useResource(async (): Promise<StudyApprovals[]> => {
    const studies = (await api.get('/studies', StudyList)).filter((s) => OPEN.has(s.status));
    return Promise.all(
      studies.map(async (study) => ({
        study,
        approvals: await api.get(`/studies/${study.id}/approvals`, ApprovalsReply),
      })),
    );
  }, [api, reloadKey]);
  const columns = sites.filter((s) => s.enrolled && !s.revokedAt);
  return (
    <section aria-labelledby="approvals-title">
      <h3 id="approvals-title">Plan approvals</h3>
      {rows.state === 'loading' && <Loading what="approvals" />}
      {rows.state === 'error' && <ErrorView message={rows.message} onRetry={reload} />}
      {rows.state === 'ready' && rows.data.length === 0 && (
        <Empty>No open studies: approvals matter for draft, running and paused studies.</Empty>
      )}
      {rows.state === 'ready' && rows.data.length > 0 && (
        <table className="approvals">
          <thead>
            <tr>
              <th scope="col">Study</th>
              <th scope="col">Current plan</th>
              {columns.map((s) => (
                <th scope="col" key={s.id}>
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.data.map(({ study, approvals }) => (
              <tr key={study.id} data-approvals={study.id}>
                <th scope="row">
                  <a href={`#/studies/${study.id}`}>{study.name}</a>
                  <div className="reason">{approvals.policy}</div>
                </th>
                <td>
                  <code title={approvals.planHash}>{approvals.planHash.slice(0, 12)}</code>
                </td>
                {columns.map((site) => {
                  const mine = approvals.approvals.filter((a) => a.site === site.name);
                  const current = mine.find((a) => a.current);
                  const older = mine.filter((a) => !a.current).at(-1);
                  return (
                    <td key={site.id} data-site={site.name}>
                      {current ? (
                        <span
                          className="badge status-completed"
                          title={`approved ${when(current.approvedAt)}`}
                        >
                          approved
                        </span>
                      ) : older ? (
                        <span className="badge status-paused" title={older.planHash}>
                          older plan {older.planHash.slice(0, 8)}
                        </span>
                      ) : (
                        <span className="reason">not approved</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
