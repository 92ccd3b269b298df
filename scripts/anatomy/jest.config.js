module.exports = { ...require('../../jest.preset.js'), displayName: 'anatomy', rootDir: __dirname };
