// One jest setup for every project: swc compiles TypeScript (with Nest's decorator metadata) to CommonJS,
// so tfjs packages are always loaded through `require` and only one copy of tfjs-core exists per process.
const path = require('node:path');

const root = __dirname;
const libs = ['protocol', 'aggregation', 'models', 'imaging'];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  moduleNameMapper: {
    ...Object.fromEntries(
      libs.map((lib) => [`^@fedseg/${lib}$`, path.join(root, 'libs', lib, 'src', 'index.ts')]),
    ),
    // The tfjs-free entry of libs/models (the coordinator's only import of it).
    '^@fedseg/models/initial-weights$': path.join(root, 'libs', 'models', 'src', 'initial-weights.ts'),
    '^@fedseg/coordinator$': path.join(root, 'apps', 'coordinator', 'src', 'index.ts'),
  },
};
