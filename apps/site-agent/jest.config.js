module.exports = { ...require('../../jest.preset.js'), displayName: 'site-agent', rootDir: __dirname };
