#!/usr/bin/env node
// Runs a TypeScript entry point with swc's require hook (keeps Nest's decorator metadata, CommonJS throughout).
const path = require('node:path');
process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: run-ts.js <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...args];
require(path.resolve(entry));
