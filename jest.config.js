// Jest runs the TypeScript sources directly (ESM) through ts-jest; no build step.
// ts-jest transpiles file by file (tsconfig has isolatedModules) and leaves type checking to
// `npm run typecheck`. Imports keep their `.ts` extensions here: the rewrite to `.js` that tsconfig
// asks for would point Jest at files that do not exist.
import { availableParallelism } from 'node:os';

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { useESM: true, diagnostics: false, tsconfig: { rewriteRelativeImportExtensions: false } },
    ],
  },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  // The console's modules import Preact with htm where the server serves it (console/vendor/ exists
  // only in memory, see src/console/console-assets.ts); test/support/console-routes.ts reads the
  // console's route table, so Jest finds that module in the package, as the server does.
  moduleNameMapper: { '/vendor/preact-htm\\.js$': '<rootDir>/node_modules/htm/preact/standalone.mjs' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60000,
  // Embedded, one and a half workers a core: many files spend part of their time waiting (a server
  // or a browser starting, a store's expiry), and two workers on two cores kept them about 72 % busy
  // (the 2-core machine's embedded pass: 17:10 with two workers, 14:31 with three). On PostgreSQL +
  // Redis, one a core: the database, Redis and every CLI command's own process (which opens the
  // stores itself there) fill the cores already, and three workers took that pass to 17:25.
  maxWorkers: Math.max(2, Math.round(availableParallelism() * (process.env.DATABASE_URL ? 1 : 1.5))),
};
