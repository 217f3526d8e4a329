// Jest projects named for what their tests need, so a run can pick what the machine has:
//   pure         services/**/*.test.ts that need nothing but Node (no database, Redis or process)
//   integration  services/**/*.test.ts that need PostgreSQL or Redis, and the migration tests
//   e2e          test/e2e and test/static: built dist/ processes, nginx, Prometheus, deploy files
//   chaos        test/chaos: processes killed, PostgreSQL and Redis failing, a full disk
//   stack        test/stack: the compose stack in a container engine
// A services test is integration when it imports a test helper that opens PostgreSQL or Redis (or
// the pg/ioredis clients themselves); the split is computed here, so no file has to be renamed or
// listed. ts-jest transpiles file by file (isolatedModules in tsconfig.json); types are checked by
// `npm run lint`. testTimeout is global in jest (projects cannot set it): the longest-running files
// raise it themselves with jest.setTimeout.
const fs = require('node:fs');
const path = require('node:path');

const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};

// Helpers that open a database, Redis or a Ferry process; importing one makes a test integration.
const NEEDS_SERVICES = /from '(?:[./]*test\/support\/(?:database|api|api-instance|redis|private-postgres|private-redis|publish-fixtures|publishing-test|products|chaos|node-process|worker-process|backup)|pg|ioredis|bullmq)'/;

function servicesTests(dir = path.join(__dirname, 'services')) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : servicesTests(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const services = servicesTests();
const integration = services.filter((f) => NEEDS_SERVICES.test(fs.readFileSync(f, 'utf8')));
const pure = services.filter((f) => !integration.includes(f));

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  maxWorkers: 2,
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'pure', testMatch: pure },
    { ...common, displayName: 'integration', testMatch: [...integration, '<rootDir>/test/migrations/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/{e2e,static}/**/*.test.ts'] },
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] },
    { ...common, displayName: 'stack', testMatch: ['<rootDir>/test/stack/**/*.test.ts'] },
  ],
};
