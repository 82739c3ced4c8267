// What `tidemark backfill` prints: the progress line and the final table.
import { describe, expect, it } from 'vitest';
import { progressLine, summaryTable } from '../../src/cli/backfill-report.ts';
import type { RunProgress } from '../../src/jobs/job-service.ts';
import type { StepRun } from '../../src/jobs/job-runs.ts';
import { describeWait, runWaits } from '../../src/jobs/run-waits.ts';

const at = (s: string): Date => new Date(`2026-03-01T10:00:${s}Z`);

function stepRun(date: string, step: string, attempt: number, outcome: StepRun['outcome'], start: string, end: string, error: string | null = null): StepRun {
  return { id: `${date}${step}${attempt}`, step, date, attempt, requestedBy: 'alice', startedAt: at(start), finishedAt: at(end), outcome, error, detail: null };
}

const progress: RunProgress = {
  run: {
    runId: 'backfill-1',
    job: 'backfill',
    from: '2026-02-27',
    to: '2026-02-28',
    requestedBy: 'alice',
    startedAt: at('00'),
    finishedAt: at('09'),
    outcome: 'failed',
    dates: ['2026-02-27', '2026-02-28'],
    steps: ['cold', 'reconcile'],
    dryRun: false,
    fullRefresh: false,
    datesSettled: 2,
    cancelRequestedBy: null,
    assumeComplete: null,
    owner: null,
  },
  stepRuns: [
    stepRun('2026-02-27', 'cold', 1, 'succeeded', '00', '01'),
    stepRun('2026-02-27', 'reconcile', 1, 'succeeded', '01', '03'),
    stepRun('2026-02-28', 'cold', 1, 'failed', '00', '02', 'disk full'),
    stepRun('2026-02-28', 'cold', 2, 'failed', '03', '04', 'disk full'),
  ],
};

describe('backfill report', () => {
  it('draws the share of succeeded steps', () => {
    expect(progressLine(progress)).toBe('[############------------] 2/4 steps, 2/2 days, 1 with failed attempts');
  });

  it('tabulates every (date, step) with its last attempt', () => {
    expect(summaryTable(progress)).toBe(
      [
        'DATE        STEP       OUTCOME            ATTEMPTS  DURATION',
        '2026-02-27  cold       succeeded          1         1.0 s',
        '2026-02-27  reconcile  succeeded          1         2.0 s',
        '2026-02-28  cold       failed: disk full  2         1.0 s',
        '2026-02-28  reconcile  not run            0',
        '',
        'run backfill-1: failed in 9.0 s',
      ].join('\n'),
    );
  });

  it('a full-refresh run counts and shows its run-wide step first', () => {
    const refresh: RunProgress = {
      run: { ...progress.run, outcome: 'running', finishedAt: null, steps: ['reconcile'], fullRefresh: true, datesSettled: 0 },
      stepRuns: [stepRun('2026-02-27', 'full-refresh', 1, 'succeeded', '00', '05'), stepRun('2026-02-27', 'reconcile', 1, 'succeeded', '05', '06')],
    };
    expect(progressLine(refresh)).toBe('[################--------] 2/3 steps, 0/2 days');
    expect(summaryTable(refresh)).toBe(
      [
        'DATE                    STEP          OUTCOME    ATTEMPTS  DURATION',
        '2026-02-27..2026-02-28  full-refresh  succeeded  1         5.0 s',
        '2026-02-27              reconcile     succeeded  1         1.0 s',
        '2026-02-28              reconcile     not run    0',
        '',
        'run backfill-1: running',
      ].join('\n'),
    );
  });

  it('says which step waits, for which watermark, and when it is tried again', () => {
    const wait = {
      waiting_for: 'archive',
      waiting_on: 'tidemark-archive',
      watermark: '2026-02-28T01:50:54.000Z',
      needed_watermark: '2026-03-01T00:00:00.000Z',
      next_retry_at: '2026-03-01T10:02:10.000Z',
    };
    const waiting: RunProgress = {
      run: { ...progress.run, outcome: 'running', finishedAt: null, datesSettled: 1 },
      stepRuns: [
        stepRun('2026-02-27', 'cold', 1, 'succeeded', '00', '01'),
        stepRun('2026-02-27', 'reconcile', 1, 'succeeded', '01', '03'),
        { ...stepRun('2026-02-28', 'cold', 2, 'not_ready', '04', '04', 'archive of 2026-02-28 is not complete'), detail: wait },
      ],
    };
    expect(progressLine(waiting)).toBe('[############------------] 2/4 steps, 1/2 days, 1 waiting (next retry 2026-03-01T10:02:10.000Z)');
    const waits = runWaits(waiting);
    expect(waits).toEqual([
      {
        date: '2026-02-28',
        step: 'cold',
        attempt: 2,
        waitingFor: 'archive',
        waitingOn: 'tidemark-archive',
        watermark: '2026-02-28T01:50:54.000Z',
        neededWatermark: '2026-03-01T00:00:00.000Z',
        nextRetryAt: '2026-03-01T10:02:10.000Z',
        reason: 'archive of 2026-02-28 is not complete',
      },
    ]);
    expect(describeWait(waits[0]!)).toBe(
      '2026-02-28 cold waits for the archive watermark of tidemark-archive (at 2026-02-28T01:50:54.000Z, needs 2026-03-01T00:00:00.000Z); next retry 2026-03-01T10:02:10.000Z (attempt 2)',
    );
    // A run that ended waits for nothing.
    expect(runWaits({ ...waiting, run: { ...waiting.run, outcome: 'failed' } })).toEqual([]);
  });
});
