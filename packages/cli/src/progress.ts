// Live stage display: one line per stage, shown once. On a terminal a stage's
// line appears when it starts and is redrawn in place as it changes (a retry
// under another accelerator included); elsewhere (logs, CI) a line is printed
// when a stage ends. A stage run again for a retry (fds reopened for the TCG
// boot) is not shown again, and an attempt that gave way is not a failure:
// the stage's final line carries it as a note.
import type { StageEvent, StageRecord } from '@tapwire/qemu';
import { renderTable } from './table.js';

const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

/** Cursor up one line, to its start, erase it: the line about to be written replaces the last one. */
const REDRAW = '\x1b[1A\r\x1b[2K';

const endLine = (e: StageEvent): string => {
  const mark = e.status === 'ok' ? '✔' : e.status === 'skip' ? '-' : '✘';
  return `  ${mark} ${e.stage.padEnd(8)} ${e.status === 'skip' ? ''.padStart(8) : fmtMs(e.ms ?? 0).padStart(8)}  ${e.note ?? ''}`.trimEnd();
};

/** A pending line is redrawn by moving up one row: it must not wrap on an 80-column terminal. */
const PENDING_MAX = 78;

const pendingLine = (stage: string, notes: readonly (string | undefined)[]): string => {
  const note = notes.filter((n) => n !== undefined && n !== '').join('; ');
  const line = [...`  … ${stage}${note === '' ? '' : ` (${note})`}`];
  return line.length <= PENDING_MAX ? line.join('') : `${line.slice(0, PENDING_MAX - 1).join('')}…`;
};

/**
 * `write` takes one line at a time (it adds the newline). On a terminal the
 * printer redraws the line it wrote last, so nothing else may write to the
 * same stream while a stage runs.
 */
export const progressPrinter = (write: (line: string) => void, tty: boolean): ((e: StageEvent) => void) => {
  let pending = false;
  /** Why a stage is being tried again, shown while the next attempt runs. */
  const retries = new Map<string, string>();
  const show = (line: string, stillRunning: boolean) => {
    write(pending ? `${REDRAW}${line}` : line);
    pending = stillRunning;
  };
  return (e) => {
    // A rerun's failure is news; its start and success were shown the first time.
    if (e.rerun === true && e.status !== 'fail') return;
    if (e.status === 'retry' && e.note !== undefined) retries.set(e.stage, e.note);
    if (e.status === 'start' || e.status === 'retry') {
      if (tty) show(pendingLine(e.stage, e.status === 'start' ? [e.note, retries.get(e.stage)] : [e.note]), true);
      return;
    }
    if (tty) show(endLine(e), false);
    else write(endLine(e));
  };
};

export const stageTable = (records: readonly StageRecord[]): string =>
  renderTable(
    ['STAGE', 'STATUS', 'TIME', 'NOTE'],
    records.map((r) => [r.stage, r.status, r.status === 'skip' ? '-' : fmtMs(r.ms), r.note ?? '']),
  );
