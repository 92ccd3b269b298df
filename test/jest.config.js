module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'e2e',
  rootDir: __dirname,
  testTimeout: 180000,
  // A real PostgreSQL for every run: the one at FEDSEG_TEST_POSTGRES / 127.0.0.1:5432, or one from npm.
  globalSetup: '<rootDir>/support/global-setup.ts',
  globalTeardown: '<rootDir>/support/global-teardown.ts',
};
