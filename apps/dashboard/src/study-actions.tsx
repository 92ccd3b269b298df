import { useState } from 'react';
import { StudyView, type StudyStatus } from '@fedseg/protocol/web';
import type { Api } from './api';

type Verb = 'start' | 'pause' | 'stop';

/** Which steering a study in this status takes; completed and failed studies take none. */
export function verbsFor(status: StudyStatus): Array<{ verb: Verb; label: string }> {
  switch (status) {
    case 'draft':
      return [{ verb: 'start', label: 'Start' }];
    case 'running':
      return [
        { verb: 'pause', label: 'Pause' },
        { verb: 'stop', label: 'Stop' },
      ];
    case 'paused':
      return [
        { verb: 'start', label: 'Resume' },
        { verb: 'stop', label: 'Stop' },
      ];
    default:
      return [];
  }
}

/**
 * Start, pause, resume and stop buttons for one study. Stop ends the study for good, so it asks once more
 * in the page (not a browser dialog: keyboard and screen readers stay in the flow).
 */
export function StudyActions({
  api,
  study,
  onChanged,
  onError,
}: {
  api: Api;
  study: Pick<StudyView, 'id' | 'name' | 'status'>;
  onChanged: () => void;
  onError: (message: string | null) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [confirmStop, setConfirmStop] = useState(false);

  async function steer(verb: Verb) {
    setBusy(true);
    onError(null);
    try {
      await api.post(`/studies/${study.id}/${verb}`, StudyView);
      onChanged();
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
      setConfirmStop(false);
    }
  }

  if (confirmStop)
    return (
      <span className="actions confirm" role="group" aria-label={`Stop ${study.name}?`}>
        Stop for good?{' '}
        <button type="button" className="danger" disabled={busy} onClick={() => void steer('stop')} autoFocus>
          Confirm stop
        </button>{' '}
        <button type="button" disabled={busy} onClick={() => setConfirmStop(false)}>
          Cancel
        </button>
      </span>
    );
  return (
    <span className="actions">
      {verbsFor(study.status).map(({ verb, label }) => (
        <button
          key={verb}
          type="button"
          disabled={busy}
          onClick={() => (verb === 'stop' ? setConfirmStop(true) : void steer(verb))}
        >
          {label}
        </button>
      ))}
    </span>
  );
}
