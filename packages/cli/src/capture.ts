import type { Output } from './output.js';

/** An Output that keeps what a command printed, for tests and embedding. */
export const captureOutput = (): Output & { stdout: () => string; stderr: () => string } => {
  let out = '';
  let err = '';
  return {
    out: (t) => {
      out += t.endsWith('\n') ? t : `${t}\n`;
    },
    err: (t) => {
      err += t.endsWith('\n') ? t : `${t}\n`;
    },
    stdout: () => out,
    stderr: () => err,
  };
};
