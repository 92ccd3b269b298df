import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig } from '@fedseg/protocol';
import { applyLayer, convNormRelu } from './blocks';

/**
 * The smallest honest 3D conv net: one conv-norm-ReLU at baseFilters, then a 1x1x1 head. No pooling, so any
 * volume shape works. For plumbing tests and smoke runs; it segments only what local intensity explains.
 */
export function buildTinyConvNet(config: ModelConfig): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, null, config.inChannels], name: 'image' });
  const features = convNormRelu(input, config.baseFilters, 'enc0', config);
  const logits = applyLayer(
    tfl.layers.conv3d({
      filters: config.numClasses,
      kernelSize: 1,
      useBias: true,
      kernelInitializer: 'zeros',
      name: 'head',
    }),
    features,
  );
  return tfl.model({ inputs: input, outputs: logits, name: 'tiny-convnet' });
}
