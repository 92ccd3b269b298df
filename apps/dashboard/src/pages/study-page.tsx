import { useEffect, useState } from 'react';
import { z } from 'zod';
import {
  MetricList,
  RoundSummaryList,
  SiteList,
  StudyView,
  type RoundEvent,
  type WhoAmI,
} from '@fedseg/protocol/web';
import type { Api } from '../api';
import { LineChart } from '../charts/line-chart';
import { STUDY_CHARTS, metricSeries } from '../charts/metric-series';
import { num, seconds, when } from '../format';
import type { useLive } from '../live';
import { Empty, ErrorView, Loading } from '../states';
import { StudyActions } from '../study-actions';
import { useResource } from '../use-resource';
import { StatusBadge, roundsOf } from './studies-page';

type Progress = Extract<RoundEvent, { type: 'task-progress' }>;

const TERMINAL = new Set(['completed', 'failed']);
/** Round phases in which updates may still arrive. */
const COLLECTING = new Set(['advertising', 'sharing', 'training', 'unmasking']);

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * One study, live: steering, privacy budget, the current round's per-site progress, charts per round
 * (study-level and per site) and the round timeline, each reloaded by the round events that change it.
 */
export function StudyPage({
  api,
  id,
  me,
  live,
}: {
  api: Api;
  id: string;
  me: WhoAmI;
  live: ReturnType<typeof useLive>;
}) {
  const [study, reloadStudy] = useResource(() => api.get(`/studies/${id}`, StudyView), [api, id]);
  const [rounds, reloadRounds] = useResource(
    () => api.get(`/studies/${id}/rounds`, RoundSummaryList),
    [api, id],
  );
  // Site names for admins and researchers; a site-admin sees only its own site's figures (and ids).
  const [siteList] = useResource(
    () => (me.role === 'site_admin' ? Promise.resolve([]) : api.get('/sites', SiteList)),
    [api, me.role],
  );
  // The server sends a site-admin only the study-level rows and its own site's (GET /studies/:id/metrics).
  const [metrics, reloadMetrics] = useResource(
    () => api.get(`/studies/${id}/metrics`, MetricList),
    [api, id],
  );
  const nameOf = (siteId: string) =>
    siteId === me.siteId
      ? 'your site'
      : (siteList.state === 'ready' && siteList.data.find((x) => x.id === siteId)?.name) ||
        siteId.slice(0, 8);
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [lastEvent, setLastEvent] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  useEffect(
    () =>
      live.subscribe((e) => {
        if (e.studyId !== id) return;
        setLastEvent(`${e.type}${'round' in e ? ` (round ${e.round})` : ''}`);
        if (e.type === 'task-progress') setProgress((p) => ({ ...p, [e.siteId]: e }));
        else if (e.type === 'round-started' || e.type === 'round-aggregated') setProgress({});
        if (e.type !== 'task-progress') reloadRounds();
        if (e.type === 'study-status' || e.type === 'round-completed') reloadStudy();
        if (e.type === 'metrics-received' || e.type === 'round-aggregated' || e.type === 'round-completed')
          reloadMetrics();
      }),
    [live, id, reloadRounds, reloadStudy, reloadMetrics],
  );

  if (study.state === 'loading') return <Loading what="the study" />;
  if (study.state === 'error') return <ErrorView message={study.message} onRetry={reloadStudy} />;
  const s = study.data;
  const planned = roundsOf(s);
  const sites = Object.values(progress);
  return (
    <section aria-labelledby="study-title">
      <p>
        <a href="#/studies">← Studies</a>
      </p>
      <h2 id="study-title">{s.name}</h2>
      <p className="summary">
        <StatusBadge status={s.status} /> {s.roundsDone} of {planned ?? '?'} rounds done
        {s.statusReason && <> · {s.statusReason}</>}
        {me.role !== 'site_admin' && (
          <>
            {' '}
            <StudyActions api={api} study={s} onChanged={reloadStudy} onError={setActionError} />{' '}
            <a href={`#/models/${s.id}`}>Models and downloads</a>
          </>
        )}
      </p>
      {actionError && <ErrorView message={actionError} />}
      <PrivacyBudget study={s} />
      <p className="last-event" aria-live="polite">
        {lastEvent ? `Last event: ${lastEvent}` : 'Waiting for round events…'}
      </p>
      {sites.length > 0 && (
        <table className="progress">
          <caption>Current round, per site</caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Epoch</th>
              <th scope="col">Step</th>
              <th scope="col">Loss</th>
            </tr>
          </thead>
          <tbody>
            {sites.map((p) => (
              <tr key={p.siteId}>
                <td title={p.siteId}>{nameOf(p.siteId)}</td>
                <td>
                  {/* epoch is 0-based on the wire, as the agent's own log shows it 1-based */}
                  <progress max={p.epochs * p.steps} value={p.epoch * p.steps + p.step} /> {p.epoch + 1}/
                  {p.epochs}
                </td>
                <td>
                  {p.step}/{p.steps}
                </td>
                <td className="num">{num(p.loss)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {metrics.state === 'loading' && <Loading what="metrics" />}
      {metrics.state === 'error' && <ErrorView message={metrics.message} onRetry={reloadMetrics} />}
      {metrics.state === 'ready' && (
        <div className="charts">
          {STUDY_CHARTS.map((c) => (
            <LineChart
              key={c.title}
              title={c.title}
              unit={'unit' in c ? c.unit : undefined}
              digits={c.digits}
              rounds={planned ?? s.roundsDone}
              series={metricSeries(metrics.data, c.split, c.name, nameOf)}
            />
          ))}
        </div>
      )}
      {rounds.state === 'loading' && <Loading what="rounds" />}
      {rounds.state === 'error' && <ErrorView message={rounds.message} onRetry={reloadRounds} />}
      {rounds.state === 'ready' && (
        <>
          {rounds.data.length === 0 ? (
            <Empty>No rounds yet{s.status === 'draft' ? ': start the study.' : '.'}</Empty>
          ) : (
            <table className="rounds">
              <caption>Round timeline</caption>
              <thead>
                <tr>
                  <th scope="col">Round</th>
                  <th scope="col">Status</th>
                  <th scope="col">Selected</th>
                  <th scope="col">Answered</th>
                  <th scope="col">Dropped</th>
                  <th scope="col">Uplink</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Train loss</th>
                  <th scope="col">Val Dice</th>
                </tr>
              </thead>
              <tbody>
                {rounds.data.map((r) => (
                  <tr key={r.index} data-round={r.index}>
                    <td className="num">{r.index}</td>
                    <td>
                      {/* A stopped study leaves its open round as the runner last wrote it. */}
                      <StatusBadge
                        status={TERMINAL.has(s.status) && !TERMINAL.has(r.status) ? 'stopped' : r.status}
                      />
                      {r.failureReason && <span className="reason"> {r.failureReason}</span>}
                    </td>
                    <td className="num">{r.selectedSites}</td>
                    <td className="num">{r.updates}</td>
                    {/* Only once training is over can a missing update be called dropped. */}
                    <td className="num">{COLLECTING.has(r.status) ? '—' : r.selectedSites - r.updates}</td>
                    <td className="num nowrap uplink">{kib(r.uplinkBytes)}</td>
                    <td>{when(r.startedAt)}</td>
                    <td className="num">{seconds(r.startedAt, r.completedAt)}</td>
                    <td className="num">{num(r.trainLoss)}</td>
                    <td className="num dice">{num(r.valDice)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

const PrivacySummary = z.looseObject({
  privacy: z.looseObject({ mode: z.string(), epsilonBudget: z.number().optional() }),
});

/** Epsilon spent against the study's budget (DP studies only); the study stops before a round would exceed it. */
function PrivacyBudget({ study }: { study: StudyView }) {
  const c = PrivacySummary.safeParse(study.config);
  if (!c.success || c.data.privacy.mode === 'none' || c.data.privacy.epsilonBudget === undefined) return null;
  const budget = c.data.privacy.epsilonBudget;
  const spent = study.epsilonSpent ?? 0;
  return (
    <p className="privacy">
      <label htmlFor="epsilon">
        Privacy budget ({c.data.privacy.mode} DP): ε {num(spent, 3)} of {num(budget, 2)} spent
      </label>{' '}
      <meter
        id="epsilon"
        min={0}
        max={budget}
        value={Math.min(spent, budget)}
        high={budget * 0.8}
        optimum={0}
      >
        {num((100 * spent) / budget, 0)}%
      </meter>
    </p>
  );
}
