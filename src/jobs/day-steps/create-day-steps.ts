// The four steps of the daily flow for one event_date, in DAY_STEP_NAMES order, bound to their
// dependencies. The queue layer (BullMQ or in-process) and `tidemark reconcile` run them.
import type { DayStep, DayStepName } from '../day-step.ts';
import { createColdStep } from './cold-step.ts';
import { createCompletenessStep } from './completeness-step.ts';
import type { DayStepDeps } from './day-step-deps.ts';
import { createQualityStep } from './quality-step.ts';
import { createReconcileStep } from './reconcile-step.ts';

export function createDaySteps(deps: DayStepDeps): Record<DayStepName, DayStep> {
  return {
    completeness: createCompletenessStep(deps),
    cold: createColdStep(deps),
    reconcile: createReconcileStep(deps),
    quality: createQualityStep(deps),
  };
}
