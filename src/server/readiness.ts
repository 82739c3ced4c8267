// /readyz: ready means the database answers, the watched stream checkpoints are fresh (or the
// stream has nothing to do), and the consumer lag is under its limit. The reasons say which.
import type { Queryable } from '../io/db/database.ts';
import { consumerStatus } from '../io/queries/operator-status.ts';

export interface ReadinessResult {
  readonly ready: boolean;
  readonly reasons: readonly string[];
  readonly lag: number | null;
  readonly checkpoint_age_sec: number | null;
}

export interface ReadinessOptions {
  readonly maxCheckpointAgeMs: number;
  readonly maxLag: number;
  readonly lag: () => Promise<number | null>;
  readonly consumers?: readonly string[] | undefined;
  readonly nowMs: number;
}

const DB_TIMEOUT_MS = 2000;

export async function checkReadiness(db: Queryable, options: ReadinessOptions): Promise<ReadinessResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${DB_TIMEOUT_MS} ms`)), DB_TIMEOUT_MS);
  });
  try {
    await Promise.race([db.query('SELECT 1'), timeout]);
  } catch (error) {
    return { ready: false, reasons: [`database unreachable: ${(error as Error).message}`], lag: null, checkpoint_age_sec: null };
  } finally {
    clearTimeout(timer);
  }

  const reasons: string[] = [];
  const lag = await options.lag().catch(() => null);
  if (lag !== null && lag > options.maxLag) reasons.push(`consumer lag ${lag} exceeds ${options.maxLag} messages`);

  const all = await consumerStatus(db, options.nowMs);
  const watched = options.consumers === undefined ? all : all.filter((c) => options.consumers!.includes(c.consumer));
  for (const name of options.consumers ?? []) {
    if (!watched.some((c) => c.consumer === name)) reasons.push(`consumer ${name} has no checkpoint yet`);
  }
  let oldest: number | null = null;
  for (const c of watched) {
    if (c.checkpoint_age_sec === null) continue;
    oldest = Math.max(oldest ?? 0, c.checkpoint_age_sec);
    // An idle stream commits nothing: an old checkpoint only matters while there is work waiting.
    if (c.checkpoint_age_sec * 1000 > options.maxCheckpointAgeMs && lag !== 0) {
      reasons.push(`checkpoint of ${c.consumer} is ${c.checkpoint_age_sec} s old (limit ${options.maxCheckpointAgeMs / 1000} s)`);
    }
  }
  return { ready: reasons.length === 0, reasons, lag, checkpoint_age_sec: oldest };
}
