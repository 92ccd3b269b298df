import { initBackend, createSegmentationModel, getFlatWeights, defaultModelConfig } from '@fedseg/models';
(async () => {
  await initBackend('cpu', { fastKernels: false });
  for (const t of ['cpu', 'gpu'] as const) for (const a of ['unet3d', 'attention-unet3d', 'res-unet3d'] as const) {
    const m = createSegmentationModel(defaultModelConfig(a, t), 0); console.log(a, t, getFlatWeights(m).data.length); m.dispose();
  }
})();
