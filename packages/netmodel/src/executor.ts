/**
 * Who reads and changes the netns: rtnetlink from this process
 * (apply-netlink.ts, state-netlink.ts; no process spawned) or ip/tc -batch
 * processes (apply.ts, state.ts; the oracle the netlink executor is tested
 * against). Both run the same ops.
 */
export type Executor = 'netlink' | 'iproute2';
/** netlink since it passed its oracle (executor-oracle.test.ts): same netns, every fault restored. */
export const DEFAULT_EXECUTOR: Executor = 'netlink';
