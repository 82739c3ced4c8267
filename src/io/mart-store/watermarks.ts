// The two watermarks the daily steps wait for: the archive writer's (is day D wholly in the
// lake?) and the stream's (are the hot rows of D final, so that the stream will not rewrite them?).
import type { Queryable } from '../db/database.ts';
import { epochMs, fromSqlEpoch } from '../hot-sink/timestamps.ts';

/** min over archive_watermark rows (every archive consumer must have passed), or null when there is none. */
export async function archiveWatermark(db: Queryable): Promise<number | null> {
  const result = await db.query<{ w: unknown }>(`SELECT ${epochMs('min(watermark_ts)')} AS w FROM archive_watermark`);
  const w = result.rows[0]?.w;
  return w === null || w === undefined ? null : fromSqlEpoch(w);
}

export interface StreamWatermark {
  readonly consumer: string;
  readonly watermark: number;
}

/** Every stream consumer's stored watermark (a bounded replay's is +∞ once it ended). */
export async function streamWatermarks(db: Queryable): Promise<StreamWatermark[]> {
  const result = await db.query<{ c: string; w: unknown }>(`SELECT consumer AS c, ${epochMs('watermark_ts')} AS w FROM stream_consumers ORDER BY consumer`);
  return result.rows.map((r) => ({ consumer: r.c, watermark: fromSqlEpoch(r.w) }));
}
