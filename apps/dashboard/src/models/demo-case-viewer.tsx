import { useEffect, useRef, useState } from 'react';
import { DemoCaseView } from '@fedseg/protocol/web';
import type { Api } from '../api';
import { num } from '../format';
import { ErrorView, Loading } from '../states';
import { useResource } from '../use-resource';

/** Label colours (organ, lesion, more classes), RGBA 0-255; background transparent. */
const LABEL_RGBA: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0, 0, 0],
  [0, 158, 115, 150],
  [230, 159, 0, 230],
  [86, 180, 233, 200],
  [204, 121, 167, 200],
];

type ViewerState = { state: 'loading' } | { state: 'ready' } | { state: 'error'; message: string };

/**
 * NiiVue on the coordinator's synthetic demo case (never site data): the image with the chosen checkpoint's
 * predicted labels overlaid, multiplanar. NiiVue (about 1.5 MB) is loaded only when a viewer is opened.
 */
export function DemoCaseViewer({ api, studyId, round }: { api: Api; studyId: string; round: number }) {
  const [info, reload] = useResource(
    () => api.get(`/studies/${studyId}/demo-case?round=${round}`, DemoCaseView),
    [api, studyId, round],
  );
  const canvas = useRef<HTMLCanvasElement>(null);
  const [viewer, setViewer] = useState<ViewerState>({ state: 'loading' });
  const [showTruth, setShowTruth] = useState(false);
  const ready = info.state === 'ready';

  useEffect(() => {
    if (!ready || !canvas.current) return;
    let cancelled = false;
    const target = canvas.current;
    setViewer({ state: 'loading' });
    (async () => {
      const { Niivue } = await import('@niivue/niivue');
      const nv = new Niivue({
        backColor: [1, 1, 1, 1],
        isColorbar: false,
        // Demo cases are a few dozen voxels a side: a one-voxel crosshair would hide a lesion.
        crosshairWidth: 1,
        crosshairWidthUnit: 'percent',
        crosshairColor: [0.12, 0.44, 0.92, 0.6],
        // Labels are classes: blending neighbours would invent colours between them.
        isNearestInterpolation: true,
      });
      await nv.attachToCanvas(target);
      const url = (name: string) => `/studies/${studyId}/demo-case/${name}?round=${round}`;
      const overlay = showTruth ? 'label.nii' : 'prediction.nii';
      await nv.loadVolumes([
        { url: url('image.nii'), name: 'image.nii', headers: api.authHeaders(), colormap: 'gray' },
        { url: url(overlay), name: overlay, headers: api.authHeaders(), opacity: 0.7 },
      ]);
      const labels = nv.volumes[1]!;
      labels.setColormapLabel({
        R: LABEL_RGBA.map((c) => c[0]),
        G: LABEL_RGBA.map((c) => c[1]),
        B: LABEL_RGBA.map((c) => c[2]),
        A: LABEL_RGBA.map((c) => c[3]),
        I: LABEL_RGBA.map((_, i) => i),
      });
      nv.setSliceType(nv.sliceTypeMultiplanar);
      nv.updateGLVolume();
      if (!cancelled) setViewer({ state: 'ready' });
    })().catch((err: unknown) => {
      if (!cancelled)
        setViewer({ state: 'error', message: err instanceof Error ? err.message : String(err) });
    });
    return () => {
      cancelled = true;
    };
  }, [ready, api, studyId, round, showTruth]);

  return (
    <section className="viewer" aria-labelledby="viewer-title">
      <h3 id="viewer-title">Round {round} on the demo case</h3>
      <p className="hint">
        A synthetic phantom the coordinator draws itself, segmented by this checkpoint on the coordinator:
        never site data.
      </p>
      {info.state === 'loading' && <Loading what="the demo case (the coordinator runs the model)" />}
      {info.state === 'error' && <ErrorView message={info.message} onRetry={reload} />}
      {info.state === 'ready' && (
        <>
          <ul className="legend" data-demo-dice>
            {info.data.labels.map((l) => (
              <li key={l.value}>
                <span
                  className="swatch"
                  aria-hidden="true"
                  style={{ background: `rgb(${LABEL_RGBA[l.value]?.slice(0, 3).join(',') ?? '0,0,0'})` }}
                />
                {l.name}: Dice {num(l.dice, 3)}
              </li>
            ))}
            <li className="reason">
              {info.data.shape.join('×')} voxels, inference {num(info.data.inferenceMs, 0)} ms
            </li>
          </ul>
          <label className="toggle">
            <input type="checkbox" checked={showTruth} onChange={(e) => setShowTruth(e.target.checked)} />{' '}
            Show the phantom&apos;s true labels instead
          </label>
        </>
      )}
      {viewer.state === 'error' && <ErrorView message={`The viewer could not start: ${viewer.message}`} />}
      <div className="canvas-box" data-viewer={ready ? viewer.state : 'waiting'}>
        <canvas
          ref={canvas}
          role="img"
          aria-label={`Demo case, round ${round}: image with ${showTruth ? 'true' : 'predicted'} labels`}
        />
      </div>
    </section>
  );
}
