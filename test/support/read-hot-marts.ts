// Reads the four hot marts back from the database as the shared row types, ordered like the
// reference evaluator's output, so tests can compare them with toEqual. The store's reader does
// the work; snapshots after maxSnapshotTs (provisional ones a test does not compare) are left out.
import type { Queryable } from '../../src/io/db/database.ts';
import { readHotRows } from '../../src/io/mart-store/hot-mart-store.ts';
import type { HotMartRows } from '../../src/marts/types.ts';

export async function readHotMarts(db: Queryable, options: { maxSnapshotTs?: number } = {}): Promise<HotMartRows> {
  const rows = await readHotRows(db, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  const max = options.maxSnapshotTs ?? Number.POSITIVE_INFINITY;
  return {
    ...rows,
    topDocs: rows.topDocs.filter((r) => r.snapshotTs <= max),
    clinicalTrend: rows.clinicalTrend.filter((r) => r.snapshotTs <= max),
  };
}
