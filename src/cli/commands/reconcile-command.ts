// `tidemark reconcile --date D`: the daily flow for one date, run directly (no queue):
// completeness → cold → reconcile → quality, stopping at the first step that fails, then a
// summary table. Exit 0 when every step succeeded, 75 when the archive is not complete yet (try
// again later), 1 when a step failed.
import { userInfo } from 'node:os';
import { loadConfigFromProcess } from '../../config.ts';
import type { TidemarkConfig } from '../../config.ts';
import { migrate } from '../../io/db/migrate.ts';
import { openDatabase } from '../../io/db/open-database.ts';
import type { Lake } from '../../io/lake/lake.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import { createLogger } from '../../io/log.ts';
import { addDays, localDate } from '../../marts/time-zone.ts';
import { DAY_STEP_NAMES, DayStepCancelledError, DayStepNotReadyError } from '../../jobs/day-step.ts';
import type { DayStepResult } from '../../jobs/day-step.ts';
import { createDaySteps } from '../../jobs/day-steps/create-day-steps.ts';
import { UsageError, parseFlags } from '../command.ts';
import type { Command } from '../command.ts';

export const EXIT_NOT_READY = 75;

/** The lake named by LAKE_URL: S3 (any S3-compatible endpoint) or a local folder. */
export function openConfiguredLake(config: TidemarkConfig): Lake {
  return openLake(config.lake, config.s3);
}

interface StepRow {
  readonly step: string;
  readonly outcome: 'succeeded' | 'failed' | 'not ready' | 'cancelled' | 'skipped';
  readonly seconds: number | null;
  readonly detail: string;
}

function formatSummary(result: DayStepResult): string {
  return Object.entries(result.summary)
    .filter(([key]) => key !== 'dry_run')
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
}

function table(rows: readonly StepRow[]): string {
  const header = ['step', 'outcome', 'seconds', 'summary'];
  const cells = rows.map((r) => [r.step, r.outcome, r.seconds === null ? '' : r.seconds.toFixed(2), r.detail]);
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string => `${c.slice(0, 3).map((v, i) => v.padEnd(widths[i] as number)).join('  ')}  ${c[3]}`.trimEnd();
  return `${[line(header), ...cells.map(line)].join('\n')}\n`;
}

export const RECONCILE_COMMANDS: Record<string, Command> = {
  reconcile: {
    summary: 'Run the daily flow for one date now: completeness, cold, reconcile, quality',
    usage: `tidemark reconcile [--date YYYY-MM-DD] [--dry-run]

Runs the steps of the daily flow for one event_date (MART_TIMEZONE) directly, without the queue:
  completeness  the archive watermark must have passed the end of the day
  cold          recompute the four cold marts from the lake (LAKE_URL) and replace the day atomically
  reconcile     recompute the day's hot-mart rows from the lake, replace them, write reconcile_reports
  quality       data-quality checks of the day into quality_results
It stops at the first failing step and prints a summary table.
  --date D     the event_date (default: yesterday in MART_TIMEZONE)
  --dry-run    compute and report, write nothing
Exit status: 0 all steps succeeded, ${EXIT_NOT_READY} the archive is not complete yet, 1 a step failed.`,
    run: async (args) => {
      const { values, positionals } = parseFlags(args, { date: { type: 'string' }, 'dry-run': { type: 'boolean' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const config = loadConfigFromProcess();
      const timeZone = config.marts.timeZone;
      const date = typeof values.date === 'string' ? values.date : addDays(localDate(Date.now(), timeZone), -1);
      try {
        if (addDays(date, 0) !== date) throw new RangeError('not a date');
      } catch {
        throw new UsageError(`--date must be a calendar date YYYY-MM-DD, got '${date}'`);
      }
      const dryRun = values['dry-run'] === true;
      const log = createLogger(config.log.level, { component: 'reconcile', date });
      const lake = openConfiguredLake(config);
      const db = await openDatabase({ url: config.database.url ?? undefined, embeddedDir: config.database.embeddedDir });
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const rows: StepRow[] = [];
      let code = 0;
      try {
        await migrate(db);
        // Audited like a backfill (SPEC §6): who ran what for which range, and how it ended.
        const run = await db.query<{ id: string }>(
          `INSERT INTO job_runs (job, range_from, range_to, requested_by, detail) VALUES ('reconcile', $1::date, $1::date, $2, $3::jsonb) RETURNING id::text AS id`,
          [date, `cli:${userInfo().username}`, JSON.stringify({ dry_run: dryRun })],
        );
        const runId = run.rows[0]?.id;
        const steps = createDaySteps({ db, lake, settings: { marts: config.marts }, log, clock: Date.now });
        for (const name of DAY_STEP_NAMES) {
          if (code !== 0) {
            rows.push({ step: name, outcome: 'skipped', seconds: null, detail: '' });
            continue;
          }
          const started = performance.now();
          const seconds = (): number => (performance.now() - started) / 1000;
          try {
            const result = await steps[name]({ date, dryRun, signal: stop.signal });
            rows.push({ step: name, outcome: 'succeeded', seconds: seconds(), detail: formatSummary(result) });
          } catch (error) {
            const message = (error as Error).message;
            if (error instanceof DayStepNotReadyError) {
              rows.push({ step: name, outcome: 'not ready', seconds: seconds(), detail: message });
              code = EXIT_NOT_READY;
            } else {
              rows.push({ step: name, outcome: error instanceof DayStepCancelledError ? 'cancelled' : 'failed', seconds: seconds(), detail: message });
              code = 1;
            }
          }
        }
        const outcome = code === 0 ? 'succeeded' : rows.some((r) => r.outcome === 'cancelled') ? 'cancelled' : 'failed';
        await db.query(`UPDATE job_runs SET outcome = $2, finished_at = greatest(now(), started_at), detail = $3::jsonb WHERE id = $1::bigint`, [
          runId,
          outcome,
          JSON.stringify({ dry_run: dryRun, steps: rows }),
        ]);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await db.close();
        await lake.close();
      }
      process.stdout.write(`tidemark reconcile ${date}${dryRun ? ' (dry run: nothing written)' : ''}\n${table(rows)}`);
      return code;
    },
  },
};
