// Jest runs the TypeScript sources directly (ESM) through ts-jest; no build step.
// ts-jest transpiles file by file (tsconfig has isolatedModules) and leaves type checking to
// `npm run typecheck`. Imports keep their `.ts` extensions here: the rewrite to `.js` that tsconfig
// asks for would point Jest at files that do not exist.
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
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
