export type { SysError } from './errors.js';
export { describeSysError } from './errors.js';
export type { NetnsHandle } from './netns.js';
export { resolveNetns, netnsPath, hasCapSysAdmin } from './netns.js';
export type { Ran } from './exec.js';
export { run, spawnCount, inNetnsArgv } from './exec.js';
export type { BatchTool } from './batch.js';
export { runBatch, runBatchJson, encodeBatchLine, encodeBatchWord, splitBatchJson } from './batch.js';
