// The stages a launch goes through, reported live to whoever displays them.
//
// A stage can be retried (boot under KVM, then under TCG): the attempt that
// gave way is not a failure the user should see as one. `retry` ends the
// attempt without a record; stages run again on the way back (fds) update
// their record in place and say so (`rerun`), so a display shows every stage
// once, and the retried stage's final record carries the retry as a note.
export const STAGES = ['scan', 'attach', 'fds', 'boot', 'net-up', 'ping', 'teardown'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageEvent {
  readonly stage: Stage;
  /** retry: this attempt gave way to another one; the stage is not over. */
  readonly status: 'start' | 'ok' | 'fail' | 'skip' | 'retry';
  /** Set on ok/fail/retry: how long the stage took (on ok/fail, every attempt included). */
  readonly ms?: number;
  readonly note?: string;
  /** The stage already ended once and runs again for a retry: a display has shown it already. */
  readonly rerun?: true;
}

export interface StageRecord {
  readonly stage: Stage;
  readonly status: 'ok' | 'fail' | 'skip';
  readonly ms: number;
  readonly note: string | undefined;
}

/** The final note of a retried stage: what it ended with, then why it was retried. */
const withRetryNote = (note: string | undefined, retry: string | undefined): string | undefined =>
  retry === undefined ? note : note === undefined || note === '' ? retry : `${note} (${retry})`;

/** Times stages and forwards every change; `records()` is the final table, one record per stage. */
export const stageTimer = (onEvent: (e: StageEvent) => void = () => undefined) => {
  const started = new Map<Stage, number>();
  /** Stages that gave way to a retry: the time they took and why, folded into their next end. */
  const retried = new Map<Stage, { readonly ms: number; readonly note: string }>();
  const records: StageRecord[] = [];
  const ended = (stage: Stage): number => records.findIndex((r) => r.stage === stage);
  const end = (stage: Stage, status: 'ok' | 'fail' | 'skip', note?: string, ms?: number) => {
    const attempt = ms ?? Date.now() - (started.get(stage) ?? Date.now());
    started.delete(stage);
    const before = retried.get(stage);
    retried.delete(stage);
    const at = ended(stage);
    const took = attempt + (before?.ms ?? 0) + (at >= 0 ? (records[at]?.ms ?? 0) : 0);
    const finalNote = withRetryNote(note, before?.note);
    const record: StageRecord = { stage, status, ms: took, note: finalNote };
    if (at >= 0) records[at] = record;
    else records.push(record);
    onEvent({ stage, status, ms: took, ...(finalNote === undefined ? {} : { note: finalNote }), ...(at >= 0 ? { rerun: true as const } : {}) });
  };
  return {
    start: (stage: Stage, note?: string) => {
      started.set(stage, Date.now());
      onEvent({ stage, status: 'start', ...(note === undefined ? {} : { note }), ...(ended(stage) >= 0 ? { rerun: true as const } : {}) });
    },
    ok: (stage: Stage, note?: string, ms?: number) => end(stage, 'ok', note, ms),
    fail: (stage: Stage, note?: string) => end(stage, 'fail', note),
    skip: (stage: Stage, note?: string) => end(stage, 'skip', note, 0),
    /** This attempt gave way to another (why: the note); the stage's next end is its record. */
    retry: (stage: Stage, note: string) => {
      const took = Date.now() - (started.get(stage) ?? Date.now());
      started.delete(stage);
      retried.set(stage, { ms: (retried.get(stage)?.ms ?? 0) + took, note });
      onEvent({ stage, status: 'retry', ms: took, note });
    },
    /** Stages started and never ended (an early return), or retried and never run again, are closed as failed. */
    closeOpen: (note: string) => {
      for (const s of [...started.keys()]) end(s, 'fail', note);
      for (const s of [...retried.keys()]) end(s, 'fail', undefined, 0);
    },
    records: (): readonly StageRecord[] => records,
  };
};
