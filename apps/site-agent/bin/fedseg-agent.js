#!/usr/bin/env node
require('../../../scripts/ts-bin.js')(require('node:path').join(__dirname, '..', 'src', 'main.ts'));
