'use strict';
// `npm install` hook: builds the oneDNN addon with node-gyp when this machine can, else skips cleanly.
// It never fails the install: without the addon, libs/models keeps tfjs's portable kernels (and says so).
// Needs: a C++ compiler, make, Node's headers (shipped with Node at <prefix>/include/node, so nothing is
// downloaded) and Debian's libdnnl-dev (oneDNN 2.x). FEDSEG_NATIVE=0 skips the build.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function skip(why) {
  console.log(`@fedseg/native-kernels: skipped (${why}); training uses the portable kernels.`);
  process.exit(0);
}

if (process.env.FEDSEG_NATIVE === '0') skip('FEDSEG_NATIVE=0');
if (process.platform !== 'linux' && process.platform !== 'darwin')
  skip(`no build recipe for ${process.platform}`);

const headerDirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];
if (!headerDirs.some((dir) => fs.existsSync(path.join(dir, 'oneapi', 'dnnl', 'dnnl.hpp')))) {
  skip('oneDNN headers not found; on Debian/Ubuntu: apt-get install libdnnl-dev');
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package; the candidates above may still hold it
  }
  return candidates.find((file) => file && fs.existsSync(file));
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) skip('node-gyp not found');

// Building against the running Node's own headers keeps the build offline.
const nodeDir = path.resolve(path.dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild'];
if (fs.existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);

const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
const log = `${result.stdout ?? ''}${result.stderr ?? ''}`;
fs.mkdirSync(path.join(root, 'build'), { recursive: true });
fs.writeFileSync(path.join(root, 'build', 'install.log'), log);
if (result.status !== 0) {
  fs.rmSync(path.join(root, 'build', 'Release', 'fedseg_native.node'), { force: true });
  skip(`build failed, see libs/native-kernels/build/install.log`);
}

// A build that links but cannot load (e.g. libdnnl.so missing at run time) is no better than none.
const loaded = spawnSync(
  process.execPath,
  ['-e', `require(${JSON.stringify(path.join(root, 'index.js'))}).binding.info()`],
  {
    encoding: 'utf8',
  },
);
if (loaded.status !== 0) {
  fs.rmSync(path.join(root, 'build', 'Release', 'fedseg_native.node'), { force: true });
  skip(`built but does not load: ${(loaded.stderr || '').split('\n')[0]}`);
}
console.log('@fedseg/native-kernels: built the oneDNN addon.');
