import { encodeTensors } from '@fedseg/protocol';
import { decodeStrategyState, encodeStrategyState } from './strategy-state-codec';

describe('strategy state codec', () => {
  it('round-trips vectors, step and scalars through a tensor blob', () => {
    const state = {
      step: 7,
      vectors: { m: Float32Array.of(1, -2), v: Float32Array.of(0.5, 3) },
      scalars: { lr: 0.01 },
    };
    expect(decodeStrategyState(encodeStrategyState(state))).toEqual(state);
    expect(decodeStrategyState(encodeStrategyState({ step: 1, vectors: {} }))).toEqual({
      step: 1,
      vectors: {},
    });
  });

  it('refuses a blob that is not a strategy state', () => {
    expect(() =>
      decodeStrategyState(
        encodeTensors([{ name: 'w', shape: [1], dtype: 'float32', data: new Float32Array(1) }]),
      ),
    ).toThrow(/lacks its step/);
  });
});
