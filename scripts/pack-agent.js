#!/usr/bin/env node
// `npm run pack:agent`: a tarball a hospital installs with `npm install -g ./fedseg-agent-<version>.tgz`.
// It holds the agent and the libraries it uses compiled to CommonJS by swc (the @fedseg/* imports rewritten
// to relative paths), with their npm dependencies declared at the versions this workspace pins. The optional
// oneDNN addon is not included (it needs a compiler at the site); the WebAssembly SIMD kernels are.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const RUNTIME = [
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  'socket.io-client',
  'tweetnacl',
  'webgpu',
  'zod',
];
const LIBS = ['protocol', 'models', 'imaging', 'aggregation'];
const outDir = path.resolve(process.argv[2] ?? root);
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-agent-pack-'));

const copy = (from, to, filter = () => true) =>
  fs.cpSync(path.join(root, from), path.join(stage, to), {
    recursive: true,
    filter: (src) => !/\.spec\.ts$|[\\/](testing|__fixtures__|node_modules)[\\/]/.test(src) && filter(src),
  });
copy('apps/site-agent/src', 'apps/site-agent/src');
for (const lib of LIBS) copy(`libs/${lib}/src`, `libs/${lib}/src`);
copy(
  'libs/models/wasm',
  'libs/models/wasm',
  (src) => !src.includes(`${path.sep}src${path.sep}`) || src.endsWith('wasm'),
);
const swc = require('@swc/core');
const compile = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) compile(file);
    else if (entry.name.endsWith('.ts')) {
      const { code } = swc.transformFileSync(file, {
        swcrc: false,
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          target: 'es2022',
          baseUrl: stage,
          paths: Object.fromEntries(LIBS.map((lib) => [`@fedseg/${lib}`, [`libs/${lib}/src/index.ts`]])),
        },
        module: { type: 'commonjs' },
      });
      fs.writeFileSync(file.replace(/\.ts$/, '.js'), code);
      fs.rmSync(file);
    }
  }
};
compile(path.join(stage, 'apps'));
compile(path.join(stage, 'libs'));
fs.mkdirSync(path.join(stage, 'bin'));
fs.writeFileSync(
  path.join(stage, 'bin', 'fedseg-agent.js'),
  "#!/usr/bin/env node\nrequire('../apps/site-agent/src/main.js');\n",
  { mode: 0o755 },
);
const missing = RUNTIME.filter((d) => !rootPkg.dependencies[d]);
if (missing.length) throw new Error(`not pinned in package.json: ${missing.join(', ')}`);
fs.writeFileSync(
  path.join(stage, 'package.json'),
  JSON.stringify(
    {
      name: 'fedseg-agent',
      version: rootPkg.version,
      description:
        'fedseg site agent: enroll a hospital, approve study plans, train locally, send encrypted updates',
      license: rootPkg.license,
      engines: rootPkg.engines,
      bin: { 'fedseg-agent': 'bin/fedseg-agent.js' },
      dependencies: Object.fromEntries(RUNTIME.map((d) => [d, rootPkg.dependencies[d]])),
    },
    null,
    2,
  ),
);
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: stage })
  .toString()
  .trim()
  .split('\n')
  .pop();
fs.rmSync(stage, { recursive: true, force: true });
console.log(path.join(outDir, tarball));
