import { decodeTensors, encodeTensors, type NamedTensor } from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import type { StrategyState } from './site-update';

/**
 * A server state as one `@fedseg/protocol` tensor blob, for the coordinator's checkpoint next to the global
 * weights: each vector is a float32 tensor `state.<name>`; `step` and the scalars ride in the first tensor's
 * meta (a state with no vectors gets an empty `state` tensor to carry them).
 */
export function encodeStrategyState(state: StrategyState): Uint8Array {
  const meta: Record<string, number> = { step: state.step };
  for (const [k, v] of Object.entries(state.scalars ?? {})) meta[`scalar.${k}`] = v;
  const vectors = Object.entries(state.vectors);
  const tensors: NamedTensor[] =
    vectors.length === 0
      ? [{ name: 'state', shape: [0], dtype: 'float32', data: new Float32Array(0), meta }]
      : vectors.map(([name, data], i) => ({
          name: `state.${name}`,
          shape: [data.length],
          dtype: 'float32',
          data,
          ...(i === 0 ? { meta } : {}),
        }));
  return encodeTensors(tensors);
}

export function decodeStrategyState(blob: Uint8Array): StrategyState {
  const tensors = decodeTensors(blob);
  const meta = tensors[0]?.meta;
  if (!meta || typeof meta.step !== 'number')
    throw new AggregationError(
      'Checkpointed strategy state lacks its step; the blob is not a strategy state.',
      'STRATEGY_STATE_INVALID',
    );
  const vectors: Record<string, Float32Array> = {};
  for (const t of tensors) {
    if (t.name === 'state') continue;
    if (!t.name.startsWith('state.') || !(t.data instanceof Float32Array)) {
      throw new AggregationError(
        `Checkpointed strategy state has an unexpected tensor "${t.name}".`,
        'STRATEGY_STATE_INVALID',
      );
    }
    vectors[t.name.slice('state.'.length)] = t.data.slice();
  }
  const scalars: Record<string, number> = {};
  for (const [k, v] of Object.entries(meta))
    if (k.startsWith('scalar.')) scalars[k.slice('scalar.'.length)] = v;
  return { step: meta.step, vectors, ...(Object.keys(scalars).length ? { scalars } : {}) };
}
