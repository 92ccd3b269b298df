import { useEffect, useState } from 'react';
import { CheckpointList, StudyList, type StudyView } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { num, when } from '../format';
import type { useLive } from '../live';
import { StatusBadge } from '../pages/studies-page';
import { Empty, ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';
import { DemoCaseViewer } from './demo-case-viewer';
import { downloadCheckpoint } from './download-checkpoint';

/**
 * Models: a study's global model after every round, with the study-level figures of that round, its size and
 * SHA-256, and a download that checks the bytes against that SHA-256. Refreshed when a round completes.
 */
export function ModelsPage({
  api,
  studyId,
  live,
}: {
  api: Api;
  studyId: string | null;
  live: ReturnType<typeof useLive>;
}) {
  const [studies] = useResource(() => api.get('/studies', StudyList), [api]);
  const chosen =
    studies.state === 'ready'
      ? (studies.data.find((s) => s.id === studyId) ?? studies.data.find((s) => s.roundsDone > 0) ?? null)
      : null;
  return (
    <section aria-labelledby="models-title">
      <h2 id="models-title">Models</h2>
      {studies.state === 'loading' && <Loading what="studies" />}
      {studies.state === 'error' && <ErrorView message={studies.message} />}
      {studies.state === 'ready' && studies.data.length === 0 && <Empty>No studies yet, so no models.</Empty>}
      {studies.state === 'ready' && studies.data.length > 0 && (
        <p className="field inline">
          <label htmlFor="model-study">Study</label>
          <select
            id="model-study"
            value={chosen?.id ?? ''}
            onChange={(e) => (location.hash = `#/models/${e.target.value}`)}
          >
            {!chosen && <option value="">Choose a study</option>}
            {studies.data.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.roundsDone} rounds, {s.status})
              </option>
            ))}
          </select>
        </p>
      )}
      {chosen && <Checkpoints key={chosen.id} api={api} study={chosen} live={live} />}
    </section>
  );
}

function Checkpoints({ api, study, live }: { api: Api; study: StudyView; live: ReturnType<typeof useLive> }) {
  const [checkpoints, reload] = useResource(
    () => api.get(`/studies/${study.id}/checkpoints`, CheckpointList),
    [api, study.id],
  );
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  useEffect(
    () =>
      live.subscribe((e) => {
        if (e.studyId === study.id && (e.type === 'round-completed' || e.type === 'round-aggregated'))
          reload();
      }),
    [live, study.id, reload],
  );

  async function download(round: number, sha256: string) {
    setBusy(round);
    setNote(null);
    try {
      const { verified, fileName } = await downloadCheckpoint(api, study, round, sha256);
      setNote({
        ok: true,
        text: `${fileName}: ${verified ? 'SHA-256 checked' : 'saved (this page cannot check SHA-256 over plain http)'}.`,
      });
    } catch (err) {
      setNote({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <p className="summary">
        <a href={`#/studies/${study.id}`}>{study.name}</a> <StatusBadge status={study.status} />
      </p>
      {note && (
        <p className={note.ok ? 'state' : 'state error'} role={note.ok ? 'status' : 'alert'}>
          {note.text}
        </p>
      )}
      {checkpoints.state === 'loading' && <Loading what="checkpoints" />}
      {checkpoints.state === 'error' && <ErrorView message={checkpoints.message} onRetry={reload} />}
      {checkpoints.state === 'ready' && checkpoints.data.length === 0 && (
        <Empty>No checkpoints yet: the initial model is committed when the study starts.</Empty>
      )}
      {checkpoints.state === 'ready' && checkpoints.data.length > 0 && (
        <table className="checkpoints">
          <caption>Global model per round (study-level means over the sites)</caption>
          <thead>
            <tr>
              <th scope="col">Round</th>
              <th scope="col">Committed</th>
              <th scope="col">Train loss</th>
              <th scope="col">Val Dice</th>
              <th scope="col">HD95 (mm)</th>
              <th scope="col">ASSD (mm)</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">
                <span className="visually-hidden">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {[...checkpoints.data].reverse().map((c) => (
              <tr key={c.round} data-checkpoint={c.round}>
                <td className="num">{c.round === 0 ? '0 (initial)' : c.round}</td>
                <td className="nowrap">{when(c.createdAt)}</td>
                <td className="num">{num(c.trainLoss)}</td>
                <td className="num">{num(c.valDice)}</td>
                <td className="num">{num(c.valHd95Mm, 2)}</td>
                <td className="num">{num(c.valAssdMm, 2)}</td>
                <td className="num nowrap">{(c.bytes / 1024).toFixed(1)} KiB</td>
                <td>
                  <code className="sha" title={c.sha256}>
                    {c.sha256.slice(0, 16)}…
                  </code>
                </td>
                <td className="actions nowrap">
                  <button
                    type="button"
                    disabled={busy !== null}
                    onClick={() => void download(c.round, c.sha256)}
                    aria-label={`Download round ${c.round}`}
                  >
                    Download
                  </button>
                  <button
                    type="button"
                    aria-pressed={viewing === c.round}
                    onClick={() => setViewing(c.round)}
                    aria-label={`View round ${c.round} on the demo case`}
                  >
                    View
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {viewing !== null && <DemoCaseViewer api={api} studyId={study.id} round={viewing} />}
    </>
  );
}
