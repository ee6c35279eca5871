// Pass 1 of `pnpm test` (scripts/test.mjs): every test file but the exclusive ones.
export default {
  files: ['packages/*/dist/**/*.test.js', '!packages/*/dist/**/*.exclusive.test.js'],
  timeout: '5m',
  workerThreads: false,
  concurrency: 2,
};
