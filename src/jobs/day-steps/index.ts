// Placeholder for the daily steps (completeness, cold, reconcile, quality), which are built in
// parallel: the CLI wires createDaySteps here, and the queue layer depends only on the
// Record<DayStepName, DayStep> it returns. Replace this module when the steps land.
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import type { DayStep, DayStepName } from '../day-step.ts';

export interface DayStepDeps {
  readonly db: Database;
  readonly config: TidemarkConfig;
}

export function createDaySteps(deps: DayStepDeps): Record<DayStepName, DayStep> {
  void deps;
  throw new Error('the daily steps are not wired into this build yet (src/jobs/day-steps)');
}
