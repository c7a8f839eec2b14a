import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The web app's own import alias (frontend/tsconfig.json "paths"), for its unit tests.
    alias: [{ find: /^@\//, replacement: fileURLToPath(new URL('./frontend/', import.meta.url)) }],
  },
  test: {
    include: [
      'shared/test/**/*.test.ts',
      'backend/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
      // The web app's unit tests and its browser tests (frontend/e2e: real replicas, the built
      // web app, nginx and Debian's chromium; they fail, never skip, when the build is missing).
      'frontend/**/*.test.ts',
    ],
    exclude: [...configDefaults.exclude, '**/.next/**'],
    globalSetup: ['backend/test/global-setup.ts'],
    testTimeout: 30_000,
    // Generous for the browser tests, whose beforeAll starts two replicas, `next start`, two
    // nginx processes and chromium; their tests set longer timeouts of their own.
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
