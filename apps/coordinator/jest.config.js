module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'coordinator',
  rootDir: __dirname,
  // Specs boot a real coordinator on an embedded database: seconds, more on a loaded machine.
  testTimeout: 60_000,
};
