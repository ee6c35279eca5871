// Live stage display. On a terminal one line per stage is redrawn as it
// changes; elsewhere (logs, CI) a line is printed when a stage ends. Either
// way it goes to stderr, so --json output on stdout stays clean.
import type { StageEvent, StageRecord } from '@tapwire/qemu';
import { renderTable } from './table.js';

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

export const progressPrinter = (write: (line: string) => void, tty: boolean) => (e: StageEvent): void => {
  if (e.status === 'start') {
    if (tty) write(`  … ${e.stage}${e.note === undefined ? '' : ` (${e.note})`}`);
    return;
  }
  const mark = e.status === 'ok' ? '✔' : e.status === 'skip' ? '-' : '✘';
  write(`  ${mark} ${e.stage.padEnd(8)} ${e.status === 'skip' ? '' : fmtMs(e.ms ?? 0).padStart(8)}  ${e.note ?? ''}`.trimEnd());
};

export const stageTable = (records: readonly StageRecord[]): string =>
  renderTable(
    ['STAGE', 'STATUS', 'TIME', 'NOTE'],
    records.map((r) => [r.stage, r.status, r.status === 'skip' ? '-' : fmtMs(r.ms), r.note ?? '']),
  );
