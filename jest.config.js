// Three projects: code-level tests beside the sources, cross-service tests under test/ (e2e,
// static checks of the deploy files, chaos, migrations), and the container stack test, which
// needs an engine. ts-jest transpiles file by file (isolatedModules in tsconfig.json); types are
// checked by `npm run lint`. testTimeout is global in jest (projects cannot set it): the longest-running
// files raise it themselves with jest.setTimeout.
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/services/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/{e2e,static,chaos,migrations}/**/*.test.ts'] },
    { ...common, displayName: 'stack', testMatch: ['<rootDir>/test/stack/**/*.test.ts'] },
  ],
};
