/** @type {import('jest').Config} */
const shared = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

// Three projects: `npm run test:unit` is the fast loop (no servers, no browser); `npm test` runs all.
/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/tests/unit'] },
    // Azurite and the emulators start per file, on free ports, over real HTTP(S).
    { ...shared, displayName: 'integration', roots: ['<rootDir>/tests/integration'] },
    // The Agents Playground and the tab's pages in Debian's Chromium.
    { ...shared, displayName: 'e2e', roots: ['<rootDir>/tests/e2e'] },
  ],
  // A global option: jest reads it from here, not from a project. Tests wait on conditions; this
  // only ends a hang, so it is generous enough that a busy machine never trips it.
  testTimeout: 180000,
  // Integration tests start Azurite and the emulators per file; two workers fit a 2-core machine.
  maxWorkers: 2,
};
