// Lets a package bin run a TypeScript entry in a checkout: swc's require hook with the workspace tsconfig
// (its paths resolve @fedseg/* to the libs' sources). CommonJS throughout, as scripts/run-ts.js.
const path = require('node:path');
process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
module.exports = (entry) => require(entry);
