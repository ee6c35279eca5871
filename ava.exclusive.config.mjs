// Pass 2 of `pnpm test` (scripts/test.mjs): tests that must have the machine to
// themselves (DPDK testpmd busy-polls a core), one file at a time.
export default {
  files: ['packages/*/dist/**/*.exclusive.test.js'],
  timeout: '5m',
  workerThreads: false,
  concurrency: 1,
  serial: true,
};
