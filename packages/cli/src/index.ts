export { runCli } from './main.js';
export type { Output } from './output.js';
