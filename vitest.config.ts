import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships CommonJS (`main`) and ESM (`module`) builds. Node, and so the app in
    // production, loads the CommonJS one everywhere; Vite would pick the ESM one for our sources
    // while Mercurius keeps the CommonJS one, and graphql refuses types from the other copy.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each open their own pools; two at a time suits a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
  },
});
