// The daily steps as the commands build them from configuration: the lake named by LAKE_URL
// (S3 or a local folder), the mart settings, a logger. The queue layer depends only on the
// Record<DayStepName, DayStep> this returns.
import type { TidemarkConfig } from '../../config.ts';
import type { Database } from '../../io/db/database.ts';
import { openLake } from '../../io/lake/open-lake.ts';
import { createLogger } from '../../io/log.ts';
import type { DayStep, DayStepName } from '../day-step.ts';
import { createDaySteps } from './create-day-steps.ts';

export function createConfiguredDaySteps(deps: { readonly db: Database; readonly config: TidemarkConfig }): Record<DayStepName, DayStep> {
  const { db, config } = deps;
  return createDaySteps({
    db,
    lake: openLake(config.lake, config.s3),
    settings: { marts: config.marts },
    log: createLogger(config.log.level, { component: 'day-steps' }),
    clock: Date.now,
  });
}
