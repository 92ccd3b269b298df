const path = require('node:path');

/** Unit specs of the dashboard's pure logic (no DOM); the pages themselves are tested in chromium (test/dashboard). */
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'dashboard',
  rootDir: __dirname,
  // Every dashboard file is .tsx, specs too (the root tsconfig checks .ts files without the DOM).
  testMatch: ['**/*.spec.tsx'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  moduleNameMapper: {
    ...require('../../jest.preset.js').moduleNameMapper,
    '^@fedseg/protocol/web$': path.join(__dirname, '..', '..', 'libs', 'protocol', 'src', 'web.ts'),
  },
};
