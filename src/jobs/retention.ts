// The daily retention job (SPEC §6): hot marts older than HOT_RETENTION_DAYS, dead letters, late events and delivered
// alerts older than 30 days are deleted in batches — short transactions that never hold long locks or bloat one
// statement. Cold marts are kept, and so is every alert not delivered yet. A dry run only counts.
import type { Queryable } from '../io/db/database.ts';
import { toSqlTimestamp } from '../io/hot-sink/timestamps.ts';
import type { Logger } from '../io/log.ts';
import { hotRetentionTargets, MART_REGISTRY } from '../marts/mart-registry.ts';
import type { MartRegistry } from '../marts/mart-registry.ts';

export const DEAD_LETTER_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export interface RetentionOptions {
  readonly hotRetentionDays: number;
  readonly dryRun: boolean;
  /** Rows per DELETE statement (default 10 000). */
  readonly batchSize?: number;
  /** The marts whose tables age out; default the real registry. */
  readonly registry?: MartRegistry;
  /**
   * VACUUM each table rows were deleted from. The embedded database runs no autovacuum, so its
   * deleted rows' space would never be reused and the tables would grow by a day's rows every day.
   */
  readonly vacuum?: boolean;
}

export type RetentionKind = 'hot' | 'dead';

export interface RetentionTarget {
  readonly table: string;
  /** The column a row's age is judged by. */
  readonly column: string;
  readonly kind: RetentionKind;
  /** A fixed SQL condition a row must also meet to go (never input: it is spliced into the statements). */
  readonly only?: string;
}

// Dead letters by arrival; late events by event time, as 001 indexes them (reconcile counts a
// day's late events by event_ts, so they go when the day is long reconciled). The alert outbox
// by when an alert was raised (001 indexes raised_at), once it is delivered: an alert the sender
// still retries, or one the webhook refused for good, stays for the operator to see however old.
// The outbox's key is also what keeps a replayed batch from raising an alert twice; a restart
// replays the input since the last checkpoint, minutes rather than 30 days, so deleting
// delivered alerts that old does not let them be raised again.
const STREAM_LOG_TARGETS: readonly RetentionTarget[] = [
  { table: 'dead_letter_events', column: 'received_at', kind: 'dead' },
  { table: 'late_events', column: 'event_ts', kind: 'dead' },
  { table: 'anomaly_alerts', column: 'raised_at', kind: 'dead', only: 'delivered_at IS NOT NULL' },
];

/** What retention deletes from: the registry's hot marts and their partial tables, then the stream's logs. */
export function retentionTargets(registry: MartRegistry = MART_REGISTRY): RetentionTarget[] {
  return [...hotRetentionTargets(registry).map((t) => ({ ...t, kind: 'hot' as const })), ...STREAM_LOG_TARGETS];
}

/** The real registry's targets, in the order retention runs and reports them. */
export const RETENTION_TARGETS: readonly RetentionTarget[] = retentionTargets();

/** A table retention deletes from (one of retentionTargets()). */
export type RetentionTable = string;

/** Rows older than these instants (epoch ms) go: hot data by HOT_RETENTION_DAYS, dead letters, late events and delivered alerts by 30 days. */
export function retentionCutoffs(now: number, hotRetentionDays: number): Record<RetentionKind, number> {
  return { hot: now - hotRetentionDays * DAY_MS, dead: now - DEAD_LETTER_RETENTION_DAYS * DAY_MS };
}

export async function runRetention(
  deps: { readonly db: Queryable; readonly clock: () => number; readonly log: Logger },
  options: RetentionOptions,
): Promise<Record<RetentionTable, number>> {
  const cutoffs = retentionCutoffs(deps.clock(), options.hotRetentionDays);
  const cutoff = { hot: toSqlTimestamp(cutoffs.hot), dead: toSqlTimestamp(cutoffs.dead) };
  const batch = options.batchSize ?? 10_000;
  const counts: Record<RetentionTable, number> = {};
  for (const { table, column, kind, only } of retentionTargets(options.registry)) {
    const aged = `${column} < $1::timestamptz${only === undefined ? '' : ` AND ${only}`}`;
    if (options.dryRun) {
      const result = await deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${aged}`, [cutoff[kind]]);
      counts[table] = result.rows[0]?.n ?? 0;
      continue;
    }
    let deleted = 0;
    for (;;) {
      const result = await deps.db.query(
        `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${aged} LIMIT $2)`,
        [cutoff[kind], batch],
      );
      deleted += result.rowCount;
      if (result.rowCount < batch) break;
    }
    if (options.vacuum === true && deleted > 0) await deps.db.query(`VACUUM ${table}`);
    counts[table] = deleted;
  }
  deps.log.info(options.dryRun ? 'retention (dry run): nothing deleted' : 'retention done', { hotCutoff: cutoff.hot, deadCutoff: cutoff.dead, ...counts });
  return counts;
}
