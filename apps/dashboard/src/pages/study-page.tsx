import { useEffect, useState } from 'react';
import { RoundSummaryList, SiteList, StudyView, type RoundEvent, type WhoAmI } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { DiceChart } from '../dice-chart';
import { num, seconds, when } from '../format';
import type { useLive } from '../live';
import { Empty, ErrorView, Loading } from '../states';
import { StudyActions } from '../study-actions';
import { useResource } from '../use-resource';
import { StatusBadge, roundsOf } from './studies-page';

type Progress = Extract<RoundEvent, { type: 'task-progress' }>;

/** One study, live: its round timeline and validation Dice per round, redrawn on each round event. */
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
  const nameOf = (siteId: string) =>
    (siteList.state === 'ready' && siteList.data.find((x) => x.id === siteId)?.name) || siteId.slice(0, 8);
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
      }),
    [live, id, reloadRounds, reloadStudy],
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
        {s.epsilonSpent !== null && <> · ε spent {num(s.epsilonSpent, 2)}</>}
        {s.statusReason && <> · {s.statusReason}</>}
        {me.role !== 'site_admin' && (
          <>
            {' '}
            <StudyActions api={api} study={s} onChanged={reloadStudy} onError={setActionError} />
          </>
        )}
      </p>
      {actionError && <ErrorView message={actionError} />}
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
      {rounds.state === 'loading' && <Loading what="rounds" />}
      {rounds.state === 'error' && <ErrorView message={rounds.message} onRetry={reloadRounds} />}
      {rounds.state === 'ready' && (
        <>
          <DiceChart
            label="Validation Dice per round"
            points={rounds.data.map((r) => ({ round: r.index, value: r.valDice }))}
          />
          {rounds.data.length === 0 ? (
            <Empty>No rounds yet{s.status === 'draft' ? ': start the study.' : '.'}</Empty>
          ) : (
            <table className="rounds">
              <caption>Round timeline</caption>
              <thead>
                <tr>
                  <th scope="col">Round</th>
                  <th scope="col">Status</th>
                  <th scope="col">Sites</th>
                  <th scope="col">Updates</th>
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
                      <StatusBadge status={r.status} />
                      {r.failureReason && <span className="reason"> {r.failureReason}</span>}
                    </td>
                    <td className="num">{r.selectedSites}</td>
                    <td className="num">{r.updates}</td>
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
