// Small real day steps for testing the queue layer: each replaces its (step, date) rows of a
// table in one transaction — so a reader sees a day wholly old or wholly new — writing in chunks
// with a controllable delay, honouring the abort signal between chunks, and counting every
// application in another table. Failures and not-ready answers can be planned per (step, date).
import type { Database } from '../../src/io/db/database.ts';
import { DAY_STEP_NAMES, DayStepCancelledError, DayStepNotReadyError } from '../../src/jobs/day-step.ts';
import type { DayStep, DayStepName, DayStepResult, FullRefreshStep } from '../../src/jobs/day-step.ts';

export const FIXTURE_TABLES_SQL = `
CREATE TABLE fixture_day_rows (
  step TEXT NOT NULL, event_date DATE NOT NULL, n INT NOT NULL, generation TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (step, event_date, n));
CREATE TABLE fixture_applications (
  id BIGSERIAL PRIMARY KEY, step TEXT NOT NULL, event_date DATE NOT NULL, generation TEXT NOT NULL)`;

export interface FixtureControl {
  /** Written into every row: tells one run's rows from another's. */
  generation: string;
  rowsPerDay: number;
  chunks: number;
  chunkDelayMs: number;
  /** `${step}.${date}` (or `full-refresh`) → how many more times to throw an ordinary error. */
  readonly failures: Map<string, number>;
  /** `${step}.${date}` → how many more times to answer not ready. */
  readonly notReady: Map<string, number>;
  /** `${step}.${date}` (or `full-refresh`) of every call, in call order. */
  readonly calls: string[];
}

export function fixtureControl(overrides: Partial<FixtureControl> = {}): FixtureControl {
  return { generation: 'g1', rowsPerDay: 20, chunks: 4, chunkDelayMs: 0, failures: new Map(), notReady: new Map(), calls: [], ...overrides };
}

function takeOne(plan: Map<string, number>, key: string): boolean {
  const left = plan.get(key) ?? 0;
  if (left <= 0) return false;
  plan.set(key, left - 1);
  return true;
}

export function fixtureDaySteps(db: Database, control: FixtureControl): Record<DayStepName, DayStep> {
  const step =
    (name: DayStepName): DayStep =>
    async ({ date, dryRun, signal, onProgress }): Promise<DayStepResult> => {
      const key = `${name}.${date}`;
      control.calls.push(key);
      if (takeOne(control.notReady, key)) throw new DayStepNotReadyError(`archive not complete for ${date}`);
      if (takeOne(control.failures, key)) throw new Error(`planned failure of ${key}`);
      if (dryRun) return { summary: { rows: control.rowsPerDay, dry_run: true } };
      const generation = control.generation;
      const perChunk = Math.ceil(control.rowsPerDay / control.chunks);
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM fixture_day_rows WHERE step = $1 AND event_date = $2', [name, date]);
        for (let chunk = 0; chunk < control.chunks; chunk++) {
          if (signal.aborted) throw new DayStepCancelledError(`${key} cancelled`);
          const first = chunk * perChunk + 1;
          const last = Math.min(control.rowsPerDay, first + perChunk - 1);
          await tx.query(
            `INSERT INTO fixture_day_rows (step, event_date, n, generation, value)
             SELECT $1, $2::date, n, $3, md5($1 || $2 || n::text) FROM generate_series($4::int, $5::int) AS n`,
            [name, date, generation, first, last],
          );
          onProgress?.((chunk + 1) / control.chunks);
          if (control.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, control.chunkDelayMs));
        }
        if (signal.aborted) throw new DayStepCancelledError(`${key} cancelled`);
        await tx.query('INSERT INTO fixture_applications (step, event_date, generation) VALUES ($1, $2, $3)', [name, date, generation]);
      });
      return { summary: { rows: control.rowsPerDay } };
    };
  return Object.fromEntries(DAY_STEP_NAMES.map((name) => [name, step(name)])) as Record<DayStepName, DayStep>;
}

/**
 * A run-wide full refresh that records its calls (`full-refresh`), fails as planned, and takes
 * `chunks` × `chunkDelayMs`, checking its signal between chunks.
 */
export function fixtureFullRefresh(control: FixtureControl): FullRefreshStep {
  return async ({ dryRun, signal }) => {
    control.calls.push('full-refresh');
    if (takeOne(control.failures, 'full-refresh')) throw new Error('planned failure of full-refresh');
    for (let chunk = 0; chunk < control.chunks; chunk++) {
      if (signal.aborted) throw new DayStepCancelledError('full-refresh cancelled');
      if (control.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, control.chunkDelayMs));
    }
    if (signal.aborted) throw new DayStepCancelledError('full-refresh cancelled');
    return { summary: { dry_run: dryRun } };
  };
}
