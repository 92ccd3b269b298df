/**
 * Kernel names tfjs-node (the `tensorflow` backend) implements: the file names under tfjs-node/src/kernels
 * in tensorflow/tfjs at commit 0fc04d958ea592f3b8db79a8b3b497b5c8904097 (2025-06-06), listed with
 * `git ls-tree --name-only HEAD tfjs-node/src/kernels/`. tfjs-node cannot be installed here (it downloads
 * libtensorflow), so kernel-coverage.spec.ts checks our ops against this list instead.
 */
export const TFJS_NODE_KERNELS: ReadonlySet<string> = new Set(
  `Abs Acos Acosh Add AddN All Any ArgMax ArgMin Asin Asinh Atan Atan2 Atanh AvgPool AvgPool3D AvgPool3DGrad
  AvgPoolGrad BatchMatMul BatchToSpaceND Bincount BroadcastArgs Cast Ceil ClipByValue Complex ComplexAbs Concat
  Conv2D Conv2DBackpropFilter Conv2DBackpropInput Conv3D Conv3DBackpropFilterV2 Conv3DBackpropInputV2 Cos Cosh
  CropAndResize Cumprod Cumsum DepthToSpace DepthwiseConv2dNative DepthwiseConv2dNativeBackpropFilter
  DepthwiseConv2dNativeBackpropInput Diag Dilation2D Dilation2DBackpropFilter Dilation2DBackpropInput Einsum Elu
  EluGrad Equal Erf Exp ExpandDims Expm1 FFT Fill FlipLeftRight Floor FloorDiv FusedBatchNorm FusedConv2D
  FusedDepthwiseConv2D GatherNd GatherV2 Greater GreaterEqual IFFT Identity Imag IsFinite IsInf IsNan LRN LRNGrad
  LeakyRelu Less LessEqual LinSpace Log Log1p LogicalAnd LogicalNot LogicalOr Max MaxPool MaxPool3D MaxPool3DGrad
  MaxPoolGrad Maximum Mean Min Minimum MirrorPad Mod Multinomial Multiply Neg NonMaxSuppressionV3
  NonMaxSuppressionV4 NonMaxSuppressionV5 NotEqual OneHot OnesLike Pack PadV2 Pow Prelu Prod Range Real RealDiv
  Reciprocal Relu Relu6 Reshape ResizeBilinear ResizeBilinearGrad ResizeNearestNeighbor ResizeNearestNeighborGrad
  Reverse Round Rsqrt ScatterNd Select Selu Sigmoid Sign Sin Sinh Slice Softmax Softplus SpaceToBatchND
  SparseToDense SplitV Sqrt Square SquaredDifference StaticRegexReplace Step StridedSlice Sub Sum Tan Tanh
  TensorScatterUpdate Tile TopK Transpose Unique Unpack UnsortedSegmentSum ZerosLike _FusedMatMul`.split(
    /\s+/,
  ),
);
