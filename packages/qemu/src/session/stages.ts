// The stages a launch goes through, reported live to whoever displays them.
export const STAGES = ['scan', 'attach', 'fds', 'boot', 'net-up', 'ping', 'teardown'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageEvent {
  readonly stage: Stage;
  readonly status: 'start' | 'ok' | 'fail' | 'skip';
  /** Set on ok/fail: how long the stage took. */
  readonly ms?: number;
  readonly note?: string;
}

export interface StageRecord {
  readonly stage: Stage;
  readonly status: 'ok' | 'fail' | 'skip';
  readonly ms: number;
  readonly note: string | undefined;
}

/** Times stages and forwards every change; `records()` is the final table. */
export const stageTimer = (onEvent: (e: StageEvent) => void = () => undefined) => {
  const started = new Map<Stage, number>();
  const records: StageRecord[] = [];
  const end = (stage: Stage, status: 'ok' | 'fail' | 'skip', note?: string, ms?: number) => {
    const took = ms ?? Date.now() - (started.get(stage) ?? Date.now());
    started.delete(stage);
    records.push({ stage, status, ms: took, note });
    onEvent({ stage, status, ms: took, ...(note === undefined ? {} : { note }) });
  };
  return {
    start: (stage: Stage, note?: string) => {
      started.set(stage, Date.now());
      onEvent({ stage, status: 'start', ...(note === undefined ? {} : { note }) });
    },
    ok: (stage: Stage, note?: string, ms?: number) => end(stage, 'ok', note, ms),
    fail: (stage: Stage, note?: string) => end(stage, 'fail', note),
    skip: (stage: Stage, note?: string) => end(stage, 'skip', note, 0),
    /** Stages started and never ended (an early return) are closed as failed. */
    closeOpen: (note: string) => {
      for (const s of [...started.keys()]) end(s, 'fail', note);
    },
    records: (): readonly StageRecord[] => records,
  };
};
