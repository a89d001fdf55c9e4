/**
 * Unit tests of the frontend's pure parts (labextension/test/*.spec.ts):
 * ts-jest compiles them with tsconfig.test.json; the @jupyterlab and @lumino
 * packages ship ES modules, so they are compiled too.
 */
const esModules = ['@jupyterlab', '@jupyter', '@lumino', 'lib0', 'y-protocols', 'yjs'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/labextension/test'],
  testMatch: ['**/*.spec.ts', '**/*.spec.tsx'],
  transform: {
    '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esModules.join('|')})/)`],
  moduleNameMapper: { '\\.(css|svg)$': '<rootDir>/labextension/test/stub.js' }
};
