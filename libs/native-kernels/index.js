'use strict';
// Loads the compiled addon if `npm install` built it (scripts/install.js), else says why not.
// Consumers must treat `binding === null` as "use the portable kernels" (libs/models/src/kernels).
const fs = require('node:fs');
const path = require('node:path');

const addonPath = path.join(__dirname, 'build', 'Release', 'fedseg_native.node');
let binding = null;
let reason = '';
if (process.env.FEDSEG_NATIVE === '0') {
  reason = 'disabled by FEDSEG_NATIVE=0';
} else if (!fs.existsSync(addonPath)) {
  reason =
    'not built (libdnnl-dev or a C++ toolchain was missing at install; see libs/native-kernels/README.md)';
} else {
  try {
    binding = require(addonPath);
  } catch (err) {
    reason = `failed to load: ${err instanceof Error ? err.message : String(err)}`;
  }
}

module.exports = { binding, reason, addonPath };
