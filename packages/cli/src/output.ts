/** Where a command writes: injectable so tests can capture it. */
export interface Output {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The stream is a terminal: live displays may redraw lines on it (absent: no). */
  readonly outIsTerminal?: boolean;
  readonly errIsTerminal?: boolean;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  outIsTerminal: process.stdout.isTTY === true,
  errIsTerminal: process.stderr.isTTY === true,
};
