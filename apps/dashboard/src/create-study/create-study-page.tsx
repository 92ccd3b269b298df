import { useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { SiteList, StudyView } from '@fedseg/protocol/web';
import { validationIssues, type Api } from '../api';
import { ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';
import {
  ARCHITECTURES,
  CODECS,
  CONSENT_POLICIES,
  EMPTY_FORM,
  PRIVACY_MODES,
  STRATEGIES,
  checkLocally,
  issuesByField,
  toStudyConfig,
  type FieldIssue,
  type StudyFormState,
} from './study-form';

type Key = keyof StudyFormState;
type TextKey = Exclude<Key, 'sites' | 'secAgg'>;

/**
 * Creates a draft study. The browser checks each config section with the protocol's schema first; the
 * server's 400 (top-level fields, rules across sections) comes back as issues shown on the same fields.
 */
export function CreateStudyPage({ api }: { api: Api }) {
  const [form, setForm] = useState<StudyFormState>(EMPTY_FORM);
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sites] = useResource(() => api.get('/sites', SiteList), [api]);
  const { fields, rest } = issuesByField(issues);
  const set = (key: Key) => (value: string) => setForm((f) => ({ ...f, [key]: value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setFailure(null);
    const config = toStudyConfig(form);
    const local = checkLocally(config);
    setIssues(local);
    if (local.length > 0) return focusFirstInvalid();
    setBusy(true);
    try {
      const study = await api.post('/studies', StudyView, config);
      location.hash = `#/studies/${study.id}`;
    } catch (err) {
      const server = validationIssues(err);
      if (server.length > 0) {
        setIssues(server);
        focusFirstInvalid();
      } else setFailure(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const field = (key: Key, label: string, input: ReactNode, hint?: string) => (
    <Field key={key} id={`f-${key}`} label={label} errors={fields[key]} hint={hint}>
      {input}
    </Field>
  );
  const text = (key: TextKey, label: string, props: InputProps = {}, hint?: string) =>
    field(
      key,
      label,
      <input
        id={`f-${key}`}
        name={key}
        value={form[key]}
        onChange={(e) => set(key)(e.target.value)}
        aria-invalid={fields[key] ? true : undefined}
        aria-describedby={`f-${key}-msg`}
        {...props}
      />,
      hint,
    );
  const select = (key: TextKey, label: string, options: readonly string[]) =>
    field(
      key,
      label,
      <select
        id={`f-${key}`}
        name={key}
        value={form[key]}
        onChange={(e) => set(key)(e.target.value)}
        aria-invalid={fields[key] ? true : undefined}
        aria-describedby={`f-${key}-msg`}
      >
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>,
    );
  const dp = form.privacy !== 'none';
  const enrolled =
    sites.state === 'ready' ? sites.data.filter((s) => s.enrolled && !s.revokedAt).map((s) => s.name) : [];

  return (
    <section aria-labelledby="create-title">
      <p>
        <a href="#/studies">← Studies</a>
      </p>
      <h2 id="create-title">New study</h2>
      <form className="study-form" onSubmit={(e) => void submit(e)} noValidate aria-label="New study">
        <fieldset>
          <legend>Study</legend>
          {text('name', 'Name', { required: true, autoComplete: 'off' })}
          {text('description', 'Description')}
          {text('rounds', 'Rounds', { inputMode: 'numeric' })}
          {text('minSites', 'Minimum sites per round', { inputMode: 'numeric' })}
          {text('deadlineS', 'Round deadline (s)', { inputMode: 'decimal' })}
        </fieldset>
        <fieldset>
          <legend>Model</legend>
          {select('architecture', 'Architecture', ARCHITECTURES)}
          {text('numClasses', 'Classes (with background)', { inputMode: 'numeric' })}
          {text('baseFilters', 'Base filters', { inputMode: 'numeric' })}
          {text('depth', 'Depth', { inputMode: 'numeric' })}
        </fieldset>
        <fieldset>
          <legend>Local training</legend>
          {text('epochs', 'Epochs per round', { inputMode: 'numeric' })}
          {text('batchSize', 'Batch size', { inputMode: 'numeric' })}
          {text('learningRate', 'Learning rate', { inputMode: 'decimal' })}
          {text('patchSize', 'Patch size (voxels)', {}, 'x by y by z, as 16x16x16')}
        </fieldset>
        <fieldset>
          <legend>Aggregation and privacy</legend>
          {select('strategy', 'Strategy', STRATEGIES)}
          {select('privacy', 'Differential privacy', PRIVACY_MODES)}
          {dp && text('clipNorm', 'Clip norm C', { inputMode: 'decimal' })}
          {dp && text('noiseMultiplier', 'Noise multiplier z', { inputMode: 'decimal' })}
          {dp && text('epsilonBudget', 'Epsilon budget', { inputMode: 'decimal' })}
          {dp && text('targetDelta', 'Target delta', { inputMode: 'decimal' }, 'default 1e-5')}
          {select('codec', 'Update codec', CODECS)}
          {form.codec === 'top-k' &&
            text('topKFraction', 'Top-k fraction', { inputMode: 'decimal' }, 'default 0.01')}
          {field(
            'secAgg',
            'Secure aggregation',
            <input
              id="f-secAgg"
              name="secAgg"
              type="checkbox"
              checked={form.secAgg}
              onChange={(e) => setForm((f) => ({ ...f, secAgg: e.target.checked }))}
              aria-invalid={fields.secAgg ? true : undefined}
              aria-describedby="f-secAgg-msg"
            />,
            'the coordinator learns only the sum of the updates',
          )}
          {form.secAgg &&
            text(
              'secAggThreshold',
              'Shamir threshold t',
              { inputMode: 'numeric' },
              'sites alive at unmasking; at most 2t - 1 sites per round',
            )}
        </fieldset>
        <fieldset aria-describedby="f-sites-msg" aria-invalid={fields.sites ? true : undefined}>
          <legend>Invited sites</legend>
          {select('consent', 'Consent policy', CONSENT_POLICIES)}
          {sites.state === 'loading' && <Loading what="sites" />}
          {sites.state === 'error' && <ErrorView message={sites.message} />}
          {sites.state === 'ready' && enrolled.length === 0 && (
            <p className="hint">No enrolled sites yet; leave empty to admit any site that enrolls.</p>
          )}
          <div className="checks">
            {enrolled.map((name) => (
              <label key={name}>
                <input
                  type="checkbox"
                  name="sites"
                  value={name}
                  checked={form.sites.includes(name)}
                  onChange={(e) =>
                    setForm((f) => ({
                      ...f,
                      sites: e.target.checked ? [...f.sites, name] : f.sites.filter((s) => s !== name),
                    }))
                  }
                />{' '}
                {name}
              </label>
            ))}
          </div>
          <p className="hint">None checked: any enrolled site that approves the plan.</p>
          <FieldErrors id="f-sites-msg" errors={fields.sites} />
        </fieldset>
        {rest.length > 0 && (
          <div className="state error" role="alert">
            {rest.map((i) => (
              <p key={i.path + i.message}>
                {i.path}: {i.message}
              </p>
            ))}
          </div>
        )}
        {failure && <ErrorView message={failure} />}
        <p>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create study'}
          </button>
        </p>
      </form>
    </section>
  );
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'value' | 'onChange'>;

function Field({
  id,
  label,
  errors,
  hint,
  children,
}: {
  id: string;
  label: string;
  errors: string[] | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className={`field${errors ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <span className="hint">{hint}</span>}
      <FieldErrors id={`${id}-msg`} errors={errors} />
    </div>
  );
}

function FieldErrors({ id, errors }: { id: string; errors: string[] | undefined }) {
  return (
    <span id={id} className="field-error" role={errors ? 'alert' : undefined}>
      {errors?.join('; ')}
    </span>
  );
}

/** After the render that shows the errors, move focus to the first invalid field (keyboard users land there). */
function focusFirstInvalid(): void {
  requestAnimationFrame(() => {
    const el = document.querySelector<HTMLElement>('.study-form [aria-invalid="true"]');
    (el?.matches('fieldset') ? el.querySelector<HTMLElement>('input') : el)?.focus();
  });
}
